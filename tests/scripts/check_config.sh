#!/bin/sh
# liqmond -t: the shipped configs pass; every broken one fails with exit 78
# and the right "<file>:<line>: <what>" for each problem, all of them
# listed; and the daemon refuses at start what -t refuses (same message).
BUILD=${BUILD:-build}
D=$BUILD/liqmond
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_config.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - check-config: $1"; }
bad() { echo "not ok - check-config: $1"; fail=1; }

# ---- the shipped configs ---------------------------------------------------
out=$("$D" -t -c conf/liqmond.conf 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$out" = "conf/liqmond.conf: ok" ] \
    && ok "conf/liqmond.conf passes -t (from the source tree)" || bad "conf/liqmond.conf: exit $rc: $out"
out=$("$D" -t -c conf/liqmond.conf --alert-log "$tmp/a.jsonl" --store "$tmp/s.db" 2>&1)
[ $? -eq 0 ] && ok "conf/liqmond.conf with --alert-log/--store passes -t" || bad "$out"
"$D" --check-config --config conf/liqmond.conf --alert-log "$tmp/a.jsonl" --store "$tmp/s.db" \
    > /dev/null 2>&1 && ok "long options --check-config --config" || bad "long options"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/k.pem" -out "$tmp/ca.pem" \
    -days 1 -subj /CN=localhost > /dev/null 2>&1
sed -e 's/@PORT@/4433/g' -e "s#@CA@#$tmp/ca.pem#" -e "s#@CONF@#$PWD/conf#g" conf/demo.conf > "$tmp/demo.conf"
# the demo's relative paths are the source tree's: run it from there
sed -i "s#^instruments_dir = .*#instruments_dir = $PWD/conf/instruments#; s#^positions = .*#positions = $PWD/conf/examples/positions-demo.csv#" "$tmp/demo.conf"
out=$("$D" -t -c "$tmp/demo.conf" 2>&1)
[ $? -eq 0 ] && ok "conf/demo.conf (filled in as scripts/demo.sh does) passes -t" \
    || bad "demo.conf: $out"

# ---- broken configs: exit 78, every problem at its line --------------------
# check NAME 'config text' 'expected line 1' ['expected line 2' ...]
check() {
    name=$1; text=$2; shift 2
    printf '%b' "$text" > "$tmp/$name.conf"
    "$D" -t -c "$tmp/$name.conf" > "$tmp/$name.out" 2> "$tmp/$name.err"
    rc=$?
    good=1
    [ $rc -eq 78 ] || good=0
    for want in "$@"; do
        grep -qF -- "$want" "$tmp/$name.err" || { good=0; echo "#   missing: $want"; }
    done
    if [ $good -eq 1 ]; then ok "$name: exit 78, $# problem(s) named"
    else bad "$name: exit $rc"; sed 's/^/#   /' "$tmp/$name.err"; fi
}
V='[venue bybit-linear]\nsymbols = BTCUSDT\n'
I="[daemon]\ninstruments_dir = $PWD/conf/instruments\n"
check empty '' "$tmp/empty.conf: no [venue NAME] section: nothing to watch"
check comments_only '# nothing\n' "$tmp/comments_only.conf: no [venue NAME] section"
check bad_url "$I[venue okx-swap]\nsymbols = BTC-USDT-SWAP\nws_url = not a url\n" \
    "$tmp/bad_url.conf:5: ws_url: must be a ws:// or wss:// URL with a host (got 'not a url')"
check ca_missing "$I ca_file = /nonexistent/ca.pem\n$V" \
    "$tmp/ca_missing.conf:3: ca_file: must be a readable PEM file (or empty) (got '/nonexistent/ca.pem': No such file or directory)"
check dup_section "$I[daemon]\nstale_after = 5s\n$V" \
    "$tmp/dup_section.conf:3: [daemon] given twice (first at line 1): one section each"
check dup_key "$I stale_after = 5s\nstale_after = 6s\n$V" \
    "$tmp/dup_key.conf:4: stale_after given twice in [daemon] (first at line 3)"
check okx_ping "$I[venue okx-swap]\nsymbols = BTC-USDT-SWAP\nping_interval = 60s\n" \
    "$tmp/okx_ping.conf:5: ping_interval: must be a duration between 1s and 29s (OKX closes a link idle for 30 s) (got '60s')"
check half_ms "$I status_interval = 0.5ms\n$V" \
    "$tmp/half_ms.conf:3: status_interval: must be 0 (off) or a duration between 1s and 24h (got '0.5ms')"
check no_instrument "$I[venue bybit-linear]\nsymbols = NOPEUSDT\n" \
    "[venue bybit-linear] NOPEUSDT:" "bybit-linear-NOPEUSDT.json"
check positions_bad "$I positions = $tmp/pos.csv\n$V" "$tmp/pos.csv: No such file or directory"
check alerts_cross "[alerts]\ncrit = 0.1\n$I$V" \
    "$tmp/alerts_cross.conf:1: [alerts] crit: must not exceed warn"
# several at once: all listed, and a count
check many "$I stale_after = 0s\nmax_message = 1\n[bogus]\nx = 1\n$V" \
    "$tmp/many.conf:3: stale_after:" "$tmp/many.conf:4: max_message:" \
    "$tmp/many.conf:5: unknown section [bogus]" "$tmp/many.conf: 3 problems"
# a positions file that loads too little
grep -v '^#' conf/examples/positions.csv | head -n 1 > "$tmp/hdr.csv"
check positions_empty "$I positions = $tmp/hdr.csv\n$V" "$tmp/hdr.csv: no position loaded"
grep -v '^#' conf/examples/positions.csv | grep 'binance-usdm,BTCUSDT' > "$tmp/rows"
{ grep -v '^#' conf/examples/positions.csv | head -n 1; head -n 2 "$tmp/rows"; \
  echo 'x1,a,binance-usdm,XBTUSDT,long,1,100,,90'; } > "$tmp/mixed.csv"
check positions_fraction "$I positions = $tmp/mixed.csv\n[venue binance-usdm]\nsymbols = BTCUSDT\n" \
    "below positions_min_loaded 95.0%"

# ---- the daemon refuses what -t refuses, with the same words --------------
"$D" -c "$tmp/dup_key.conf" --run-for 1 > /dev/null 2> "$tmp/start.err"
rc=$?
[ $rc -eq 78 ] && grep -qF "$tmp/dup_key.conf:4: stale_after given twice" "$tmp/start.err" \
    && ok "the daemon refuses at start what -t refuses (78, same message)" \
    || bad "start with a config -t refuses: exit $rc: $(cat "$tmp/start.err")"
"$D" -c "$tmp/positions_empty.conf" --run-for 1 > /dev/null 2> "$tmp/start2.err"
rc=$?
[ $rc -eq 65 ] && grep -q "no position loaded" "$tmp/start2.err" \
    && ok "a positions file loading nothing: start refused (65)" || bad "empty positions at start: exit $rc"

# ---- usage ---------------------------------------------------------------
"$D" -t > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 64 ] && [ "$(wc -l < "$tmp/u.err")" -eq 1 ] && ok "-t without -c: 64, one line" || bad "-t alone: $rc"
"$D" --bogus > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 64 ] && grep -q "unknown option '--bogus'" "$tmp/u.err" && ok "unknown option: 64" || bad "unknown option: $rc"
"$D" --help > /dev/null; [ $? -eq 0 ] && ok "--help: 0" || bad "--help"
"$D" --version | grep -q '^liqmond ' && ok "--version" || bad "--version"
"$D" --replay > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 64 ] && grep -q "missing capture FILE" "$tmp/u.err" && ok "--replay without FILE: 64" || bad "--replay alone: $rc"
gzip -dc tests/fixtures/captures/vsim-4venues.jsonl.gz | "$D" --replay - --instruments conf/instruments --json > "$tmp/r.json" 2>/dev/null
rc=$?
[ $rc -eq 0 ] && grep -q '"frames":358' "$tmp/r.json" && ok "--replay - reads stdin" || bad "--replay -: exit $rc"
"$D" --replay /nonexistent.jsonl > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 66 ] && ok "--replay of a missing file: 66" || bad "--replay missing file: $rc ($(cat "$tmp/u.err"))"
# Broken captures: data errors (65) that say what and where.
zcat tests/fixtures/captures/vsim-4venues.jsonl.gz | gzip > "$tmp/full.gz"
head -c $(( $(stat -c %s "$tmp/full.gz") / 2 )) "$tmp/full.gz" > "$tmp/half.gz"
"$D" --replay "$tmp/half.gz" --instruments conf/instruments > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 65 ] && grep -q "half.gz: truncated gzip stream" "$tmp/u.err" \
    && ok "truncated .gz: 65, named" || bad "truncated .gz: exit $rc"
head -c 4096 /dev/urandom > "$tmp/rand.gz"
"$D" --replay "$tmp/rand.gz" --instruments conf/instruments > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc -eq 65 ] && grep -q "not a capture" "$tmp/u.err" && ok "random bytes: 65, not a capture" \
    || bad "random bytes: exit $rc"
exit $fail
