#!/bin/sh
# Fault test (make faults): garbage from a venue.  One liqmon-venue, two
# daemons on it: G watches the four venues, C (the clean run: same server,
# same seed, same positions and ladder settings) only Bybit and
# Hyperliquid.  Binance and OKX then send G (liqmon-venue /control):
#   json     a non-JSON frame and a JSON frame of an unknown type
#   shape    valid JSON of the wrong shape on the book channel
#   letters  the mark price message with "abc.def", then a bare abc
#   nan      ... with "NaN", then a bare NaN
#   inf      ... with "Infinity", then 1e999
#   deep     10,000 nested arrays
#   binary   a binary frame
#   huge     a 16 MiB frame (over max_message, 4 MiB)
#   crossed  a book update, in sequence, that crosses the book
#   skip-seq a lost book update (a gap)
#   bad-checksum  an OKX update with a wrong non-zero checksum
# After each: G is up; the frames are counted (venues' rejected counters in
# GET /v1/status, the connection's "oversized" for huge) or, for gap,
# crossed book and bad checksum, the book resynced (/v1/instruments
# "resyncs" grows) as the venue's rules say; the marks stay finite; every
# book is valid again.  At the end, under freeze: every G book equals the
# server's (GET /state), and G's Bybit and Hyperliquid books and ladders
# equal C's.
. tests/scripts/lib/live.sh
live_init garbage

# OKX with real checksums: a wrong one must resync (in production mode,
# checksum 0, validation is off once a book saw a 0: src/venue/okx.c)
live_venue --seed 31 --okx-checksum crc
live_conf "$tmp/g.conf" 's#^socket = .*#socket = '"$tmp"'/g.sock#'
# C: the Bybit and Hyperliquid rows of the same positions file
awk -F, '/^#/ { next } !vc { for (i = 1; i <= NF; i++) if ($i == "venue") vc = i; print; next }
         $vc == "bybit-linear" || $vc == "hyperliquid"' \
    conf/examples/positions-demo.csv > "$tmp/c-positions.csv"
live_conf "$tmp/c.conf" 's#^socket = .*#socket = '"$tmp"'/c.sock#' \
    '/^\[venue binance-usdm\]/,/^rest_url/d' '/^\[venue okx-swap\]/,/^rest_url/d' \
    "s#^positions = .*#positions = $tmp/c-positions.csv#"
grep -q binance "$tmp/c.conf" && { bad "c.conf still has binance"; exit 1; }
"$D" -c "$tmp/c.conf" --state-out "$tmp/c.state" > "$tmp/c.out" 2> "$tmp/c.err" &
cpid=$!
live_pids=$cpid
live_daemon "$tmp/g.conf" --state-out "$tmp/g.state"

# counters: one JSON line of G's counters and book state
counters() {
    { api /v1/status "$tmp/g.sock"; echo '@@'; api /v1/instruments "$tmp/g.sock"; } | python3 -c '
import json, sys
txt = sys.stdin.read()
st, ins = txt.split("@@")
st = json.loads(st.strip().split("\n", 1)[1]); ins = json.loads(ins.strip().split("\n", 1)[1])
out = {"venues": {}, "oversized": {}, "resyncs": {}, "valid": {}, "mark_ok": {}}
for v, x in st["venues"].items():
    out["venues"][v] = {"rejected": x["rejected"], **x["rejected_by_reason"]}
for c in st["connections"]:
    out["oversized"][c["venue"]] = out["oversized"].get(c["venue"], 0) + c["oversized"]
for k, x in ins.items():
    out["resyncs"][k] = x["resyncs"]
    out["valid"][k] = x["book_valid"]
    out["mark_ok"][k] = isinstance(x["mark"], (int, float))
print(json.dumps(out))'
}
all_valid() {
    counters 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(1 if all(d["valid"].values()) and all(d["mark_ok"].values()) else 0)' 2>/dev/null || echo 0
}
wait_valid() {
    _j=0
    while [ $_j -lt "$1" ]; do
        [ "$(all_valid)" = 1 ] && return 0
        sleep 0.2
        _j=$((_j + 1))
    done
    return 1
}
wait_valid 100 && ok "G: every book valid at start" || bad "G: books not valid at start"
wait_for 'hyperliquid/agg: connected' "$tmp/c.err" 100 || { bad "C did not connect"; tail -3 "$tmp/c.err"; }
sleep 1

# judge KIND BEFORE AFTER: what the kind must have done to Binance and OKX
judge() {
    python3 - "$@" <<'EOF'
import json, sys
kind, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
msgs, ok = [], True
for v in ("binance-usdm", "okx-swap"):
    d = {r: b["venues"][v][r] - a["venues"][v][r] for r in b["venues"][v]}
    over = b["oversized"][v] - a["oversized"][v]
    res = sum(b["resyncs"][k] - a["resyncs"][k] for k in b["resyncs"] if k.startswith(v + ":"))
    nins = sum(1 for k in b["resyncs"] if k.startswith(v + ":"))
    if kind == "json":
        good = d["json"] >= 1 and d["unknown_type"] >= 1
    elif kind in ("letters", "nan", "inf"):
        good = d["rejected"] >= 2
    elif kind in ("shape",):
        good = d["rejected"] >= 1 or res >= 1
    elif kind == "deep":
        good = d["json"] + d["schema"] >= 1
    elif kind == "binary":
        good = d["rejected"] >= 1
    elif kind == "huge":
        good = over >= 1
    elif kind in ("crossed", "skip-seq"):
        good = res >= nins
    elif kind == "bad-checksum":
        good = res >= nins if v == "okx-swap" else True
    ok = ok and good
    msgs.append("%s: rejected +%d %s, oversized +%d, resyncs +%d" % (
        v, d["rejected"], {r: n for r, n in d.items() if n and r != "rejected"}, over, res))
# the clean venues: nothing rejected, no resync
for v in ("bybit-linear", "hyperliquid"):
    if b["venues"][v]["rejected"] != a["venues"][v]["rejected"]:
        ok = False
        msgs.append("%s rejected frames too" % v)
print("; ".join(msgs))
sys.exit(0 if ok else 1)
EOF
}

for kind in json shape letters nan inf deep binary huge crossed skip-seq bad-checksum; do
    before=$(counters)
    for v in binance-usdm okx-swap; do
        case $kind in
        skip-seq|bad-checksum) q="action=$kind&venue=$v" ;;
        *) q="action=garbage&kind=$kind&venue=$v" ;;
        esac
        r=$(vget "/control?$q")
        case $r in *'"ok":true'*) ;; *) bad "$kind: /control said $r" ;; esac
    done
    sleep 1.5
    wait_valid 100 || bad "$kind: books not valid again within 20 s"
    after=$(counters)
    kill -0 "$dpid" 2>/dev/null || { bad "$kind: G died"; tail -5 "$tmp/d.err"; exit 1; }
    out=$(judge "$kind" "$before" "$after") && ok "$kind: counted/handled, G up ($out)" \
        || bad "$kind: $out"
done

# ---- under freeze: G = server, G = C for the clean venues ------------------
vget '/control?action=freeze' > /dev/null
sleep 1.5
for v in binance-usdm:BTCUSDT binance-usdm:ETHUSDT bybit-linear:BTCUSDT bybit-linear:ETHUSDT \
         okx-swap:BTC-USDT-SWAP okx-swap:ETH-USDT-SWAP hyperliquid:BTC hyperliquid:ETH; do
    vget "/state?venue=${v%%:*}&symbol=${v#*:}" > "$tmp/vs.$v.json"
done
live_stop_daemon
[ $drc -eq 0 ] && ok "G: SIGTERM, exit 0" || bad "G: exit $drc"
kill -TERM "$cpid"
wait "$cpid"
crc=$?
live_pids=
[ $crc -eq 0 ] || bad "C: exit $crc"
python3 - "$tmp" <<'EOF' && ok "every G book equal to the server's; G's Bybit and Hyperliquid books and ladders equal the clean run's" \
    || bad "final books/ladders differ"
import glob, json, os, sys
from decimal import Decimal
tmp = sys.argv[1]
g = json.load(open(os.path.join(tmp, "g.state")))["instruments"]
c = json.load(open(os.path.join(tmp, "c.state")))["instruments"]
ctv = {"BTC-USDT-SWAP": Decimal("0.01"), "ETH-USDT-SWAP": Decimal("0.1")}
bad = 0
for f in sorted(glob.glob(os.path.join(tmp, "vs.*.json"))):
    key = os.path.basename(f)[3:-5]
    srv = json.load(open(f))
    mul = ctv.get(srv["symbol"], Decimal(1)) if srv["units"] == "contracts" else Decimal(1)
    for side in ("bids", "asks"):
        a = [(Decimal(p), Decimal(q) * mul) for p, q in srv[side]]
        b = [(Decimal(repr(p)), Decimal(str(q))) for p, q in g[key][side]]
        if len(a) != len(b) or any(abs(x[0] - y[0]) > Decimal("1e-9") * x[0] or x[1] != y[1]
                                   for x, y in zip(a, b)):
            print("# %s %s: server %d levels, G %d" % (key, side, len(a), len(b)))
            bad += 1
for key in c:
    for f in ("bids", "asks", "mark", "book_valid"):
        if g[key][f] != c[key][f]:
            print("# %s: G and C differ in %s" % (key, f))
            bad += 1
    lg, lc = g[key]["ladder"], c[key]["ladder"]
    if lg["valid"] != lc["valid"] or lg["rows"] != lc["rows"] or lg["ref"] != lc["ref"]:
        print("# %s: ladders differ: G %s / C %s" % (key, json.dumps(lg)[:300], json.dumps(lc)[:300]))
        bad += 1
print("# compared %d books with the server, %d instruments with the clean run" % (len(glob.glob(os.path.join(tmp, "vs.*.json"))), len(c)))
sys.exit(1 if bad else 0)
EOF
exit $fail
