#!/bin/sh
# map_cli.sh - liqmonctl map (src/cli/map.c) and GET /v1/map/{venue}/{symbol}.svg
# (src/svc/control.c): from a store written by a replay, latest and --at;
# the SVG is well-formed XML (xmllint) and renders (rsvg-convert, a
# non-empty PNG); the same snapshot gives the same bytes; stdout with '-';
# from a running liqmond over its socket (-c CONFIG too), with the
# answer's Content-Type, 404 for an unknown instrument and 405 for POST;
# the errors: usage 64, no such snapshot / no map / an old store 65, a
# missing store 66, a dead socket 69, one line each.
BUILD=${BUILD:-build}
D=$BUILD/liqmond
V=$BUILD/liqmon-venue
CTL=$BUILD/liqmonctl
CAP=tests/fixtures/captures/vsim-4venues.jsonl.gz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/map_cli.XXXXXX") || exit 1
vpid=
dpid=
fail=0
ok() { echo "ok - map: $1"; }
bad() { echo "not ok - map: $1"; fail=1; }
skip() { echo "ok - map: $1 # SKIP $2"; }

cleanup() {
    for p in $dpid $vpid; do kill -9 "$p" 2>/dev/null; done
    for p in $dpid $vpid; do wait "$p" 2>/dev/null; done
    [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

have_xmllint=1; command -v xmllint > /dev/null 2>&1 || have_xmllint=
have_rsvg=1; command -v rsvg-convert > /dev/null 2>&1 || have_rsvg=

# svg_ok NAME FILE: well-formed, renders to a non-empty PNG, self-contained.
svg_ok() {
    if [ -n "$have_xmllint" ]; then
        xmllint --noout "$2" 2> "$tmp/xml.err" && ok "$1: well-formed XML (xmllint)" ||
            { bad "$1: xmllint"; head -5 "$tmp/xml.err"; }
    else
        skip "$1: xmllint" "no xmllint (libxml2-utils)"
    fi
    if [ -n "$have_rsvg" ]; then
        rm -f "$2.png"
        rsvg-convert -o "$2.png" "$2" 2> "$tmp/rsvg.err" && [ -s "$2.png" ] &&
            ok "$1: rsvg-convert renders it to a non-empty PNG" ||
            { bad "$1: rsvg-convert"; head -5 "$tmp/rsvg.err"; }
    else
        skip "$1: rsvg-convert" "no rsvg-convert (librsvg2-bin)"
    fi
    ! grep -qi -e '<script' -e 'href=' -e 'url(' -e '@import' "$2" &&
        grep -q 'font-family="sans-serif"' "$2" &&
        ok "$1: no script, no external reference, a generic font" ||
        bad "$1: not self-contained"
}

# ---- from a store --------------------------------------------------------

db="$tmp/r.db"
"$D" --replay "$CAP" --instruments conf/instruments \
    --positions conf/examples/positions-demo.csv --store "$db" --json \
    > "$tmp/r.out" 2> "$tmp/r.err" || { bad "replay into a store"; tail -3 "$tmp/r.err"; exit 1; }
n=$(sqlite3 "$db" "SELECT count(*) FROM snapshots WHERE map IS NOT NULL AND instrument = 'binance-usdm:BTCUSDT'")
[ "$n" -ge 1 ] && ok "the replay's snapshots carry maps ($n)" || bad "no maps in the store"

"$CTL" map binance-usdm BTCUSDT --store "$db" --svg "$tmp/a.svg" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ -s "$tmp/a.svg" ] && ok "map --store: exit 0, an SVG" ||
    { bad "map --store (exit $rc)"; cat "$tmp/err"; }
svg_ok "store, latest" "$tmp/a.svg"
grep -q 'binance-usdm:BTCUSDT' "$tmp/a.svg" && grep -q 'down ladder' "$tmp/a.svg" &&
    grep -q 'up ladder' "$tmp/a.svg" && grep -q '<rect [^>]*fill="#3b7dd8"><title>longs' "$tmp/a.svg" &&
    grep -q '<rect [^>]*fill="#e8743b"><title>shorts' "$tmp/a.svg" &&
    ok "it names the instrument, has both ladders and both sides' bars" || bad "SVG content"

"$CTL" map binance-usdm BTCUSDT --store "$db" --svg - > "$tmp/b.svg" 2> "$tmp/err"
cmp -s "$tmp/a.svg" "$tmp/b.svg" && ok "--svg - writes the same bytes to stdout" || bad "--svg - differs"

first=$(sqlite3 "$db" "SELECT min(ts) FROM snapshots WHERE instrument = 'okx-swap:BTC-USDT-SWAP'")
"$CTL" map okx-swap BTC-USDT-SWAP --store "$db" --at "$first" --svg "$tmp/c.svg" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "--at the first snapshot (ns)" || { bad "--at (exit $rc)"; cat "$tmp/err"; }
svg_ok "store, --at" "$tmp/c.svg"
"$CTL" map okx-swap BTC-USDT-SWAP --store "$db" --at "$first" --svg "$tmp/c2.svg" 2> /dev/null
cmp -s "$tmp/c.svg" "$tmp/c2.svg" && ok "the same snapshot gives the same bytes" || bad "not deterministic"
LIQMON_STORE=$db "$CTL" map hyperliquid BTC --svg "$tmp/h.svg" 2> "$tmp/err" && [ -s "$tmp/h.svg" ] &&
    ok "\$LIQMON_STORE is the store without options" || { bad "LIQMON_STORE"; cat "$tmp/err"; }

# expect CODE PATTERN NAME -- ARGS: exit code, one line on stderr matching
expect() {
    code=$1; pat=$2; name=$3; shift 4
    "$CTL" map "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    [ $rc -eq "$code" ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -e "$pat" "$tmp/err" &&
        ok "$name: exit $code, one line" || { bad "$name (exit $rc)"; cat "$tmp/err"; }
}
expect 65 'no snapshot of binance-usdm:BTCUSDT at or before 2020-01-01' "--at before the first snapshot" -- \
    binance-usdm BTCUSDT --store "$db" --at 2020-01-01 --svg "$tmp/x.svg"
expect 65 'no snapshot of bybit-linear:NOPE' "an instrument the store never saw" -- \
    bybit-linear NOPE --store "$db" --svg "$tmp/x.svg"
expect 64 "unknown venue 'kraken'" "an unknown venue" -- kraken BTC --store "$db" --svg "$tmp/x.svg"
expect 64 'missing --svg FILE' "no --svg" -- binance-usdm BTCUSDT --store "$db"
expect 64 'missing SYMBOL' "no SYMBOL" -- binance-usdm --store "$db" --svg "$tmp/x.svg"
expect 64 'one of --store, --socket' "--store and --socket" -- \
    binance-usdm BTCUSDT --store "$db" --socket "$tmp/s" --svg "$tmp/x.svg"
expect 64 '--at reads the store' "--at with --socket" -- \
    binance-usdm BTCUSDT --socket "$tmp/s" --at -1h --svg "$tmp/x.svg"
expect 64 '--at: not a time' "a bad --at" -- binance-usdm BTCUSDT --store "$db" --at yesterday --svg "$tmp/x.svg"
expect 66 'absent.db' "a missing store" -- binance-usdm BTCUSDT --store "$tmp/absent.db" --svg "$tmp/x.svg"
expect 69 'cannot connect' "a socket nobody serves" -- binance-usdm BTCUSDT --socket "$tmp/none.sock" --svg "$tmp/x.svg"
expect 74 'nodir' "an --svg that cannot be written" -- binance-usdm BTCUSDT --store "$db" --svg "$tmp/nodir/x.svg"

# A version 2 store (steps 1 and 2): no maps kept; a snapshot without one.
sed '/---- step 3/,$d' docs/store-schema.sql > "$tmp/v2.sql"
{ cat "$tmp/v2.sql"; echo 'PRAGMA user_version = 2;'; } | sqlite3 "$tmp/v2.db"
expect 65 'schema version 2 keeps no maps' "a version 2 store" -- \
    binance-usdm BTCUSDT --store "$tmp/v2.db" --svg "$tmp/x.svg"
{ cat docs/store-schema.sql; echo 'PRAGMA user_version = 3;';
  cat tests/fixtures/store/fixture.sql; } | sqlite3 "$tmp/fx.db"
expect 65 'has no map' "a snapshot taken without a map" -- \
    binance-usdm BTCUSDT --store "$tmp/fx.db" --svg "$tmp/x.svg"

"$CTL" map --help | grep -q '^usage: liqmonctl map VENUE SYMBOL' && ok "map --help" || bad "map --help"
"$CTL" --help | grep -q '^  map VENUE SYMBOL' && ok "liqmonctl --help lists map" || bad "--help lists map"

# ---- from a running daemon -------------------------------------------------

"$V" --gen-cert "$tmp" > /dev/null || { bad "gen-cert"; exit 1; }
"$V" --generate --seed 9 --port 0 --tls --cert "$tmp/localhost.crt" \
    --key "$tmp/localhost.key" > "$tmp/v.out" 2> "$tmp/v.err" &
vpid=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/v.out" 2>/dev/null)
    sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || { bad "liqmon-venue did not start"; exit 1; }
sed -e "s/@PORT@/$port/g" -e "s#@CA@#$tmp/localhost.crt#" -e "s#@CONF@#$PWD/conf#g" \
    -e 's/^status_interval = .*/status_interval = 0/' conf/demo.conf > "$tmp/d.conf"
printf '[control]\nsocket = %s/ctl.sock\n' "$tmp" >> "$tmp/d.conf"
"$D" -c "$tmp/d.conf" > "$tmp/d.out" 2> "$tmp/d.err" &
dpid=$!
i=0
while [ $i -lt 150 ] && ! grep -q 'binance-usdm: public connected' "$tmp/d.err" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
i=0
while [ $i -lt 100 ] && [ ! -S "$tmp/ctl.sock" ]; do sleep 0.1; i=$((i + 1)); done
sleep 2

"$CTL" map binance-usdm BTCUSDT --socket "$tmp/ctl.sock" --svg "$tmp/d.svg" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/d.svg" ] && ok "map --socket: exit 0, an SVG" ||
    { bad "map --socket (exit $rc)"; cat "$tmp/err"; tail -5 "$tmp/d.err"; }
svg_ok "daemon" "$tmp/d.svg"
grep -q 'book valid' "$tmp/d.svg" && grep -q '<polyline' "$tmp/d.svg" &&
    ok "the live map: a valid book, depth lines" || bad "live map content"
"$CTL" map okx-swap BTC-USDT-SWAP -c "$tmp/d.conf" --svg "$tmp/e.svg" 2> "$tmp/err" &&
    grep -q 'okx-swap:BTC-USDT-SWAP' "$tmp/e.svg" && ok "-c CONFIG: the config's socket" ||
    { bad "-c CONFIG"; cat "$tmp/err"; }
expect 65 'not a watched instrument' "the daemon: an unknown instrument (404)" -- \
    binance-usdm NOPEUSDT --socket "$tmp/ctl.sock" --svg "$tmp/x.svg"

python3 - "$tmp/ctl.sock" <<'EOF' && ok "GET .svg: 200 image/svg+xml; .json: the model; 404 JSON; POST 405 with Allow" || bad "HTTP answers"
import json, socket, sys

def req(method, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Content-Length: 0\r\n\r\n" % (method, path)).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    if "chunked" in hdrs.get("transfer-encoding", ""):
        out, rest = b"", body
        while True:
            n, _, rest = rest.partition(b"\r\n")
            n = int(n, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return int(lines[0].split()[1]), hdrs, body

st, h, b = req("GET", "/v1/map/bybit-linear/BTCUSDT.svg")
assert st == 200 and h["content-type"].startswith("image/svg+xml"), (st, h)
assert b.startswith(b"<?xml") and b"</svg>" in b
st, h, b = req("GET", "/v1/map/bybit-linear/BTCUSDT.json")
m = json.loads(b)
assert st == 200 and m["instrument"] == "bybit-linear:BTCUSDT", m
assert m["window"]["buckets"] == 60 and len(m["long_notional"]) == 60
assert len(m["bid_depth"]) == 61 and m["down"]["rows"], m["down"]
st, h, b = req("GET", "/v1/map/bybit-linear/NOPE.svg")
assert st == 404 and "error" in json.loads(b) and h["content-type"].startswith("application/json")
st, h, b = req("GET", "/v1/map/bybit-linear/BTCUSDT")
assert st == 404, st
st, h, b = req("POST", "/v1/map/bybit-linear/BTCUSDT.svg")
assert st == 405 and "GET" in h.get("allow", ""), (st, h)
EOF

exit $fail
