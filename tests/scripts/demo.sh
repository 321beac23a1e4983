#!/bin/sh
# demo.sh - `make demo`'s script in a short run (DEMO_SECONDS=12): the
# feeds connected, the crash raised alerts, every alert of the log is in
# the store, the post-mortem printed, one well-formed liquidation map per
# instrument, the printed commands work.
BUILD=${BUILD:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/demo.XXXXXX") || exit 1
fail=0
ok() { echo "ok - demo: $1"; }
bad() { echo "not ok - demo: $1"; fail=1; }
trap '[ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

DEMO_SECONDS=12 DEMO_DIR="$tmp/demo" DEMO_METRICS=127.0.0.1:0 BUILD=$BUILD \
    sh scripts/demo.sh > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok "ran to the end (exit 0)" || { bad "exit $rc"; tail -20 "$tmp/out" "$tmp/err"; exit 1; }
d=$tmp/demo
n=0
for c in binance-usdm/public binance-usdm/market bybit-linear/public okx-swap/public hyperliquid/public hyperliquid/agg; do
    grep -q "feed: $c: connected to localhost" "$d/liqmond.log" && n=$((n + 1))
done
[ $n -eq 6 ] && grep -q 'feed: okx-swap/public: connected' "$tmp/out" \
    && ok "the 6 connections of the 4 venues connected, on the terminal too" || bad "$n of 6 connections"
grep -q '^ALERT alert [0-9]*: cascade_risk critical firing' "$tmp/out" && grep -q '^      \.\.\. [0-9]* position alerts' "$tmp/out" \
    && ok "alerts shown as raised (cascade_risk in full, position alerts tallied)" || bad "no live alert lines"
na=$(grep -c . "$d/alerts.jsonl")
ns=$(sqlite3 "$d/liqmon.db" "SELECT count(*) FROM alerts")
nl=$(sqlite3 "$d/liqmon.db" "SELECT count(*) FROM alerts WHERE kind = 'position_liquidated'")
[ "$na" -gt 0 ] && [ "$na" = "$ns" ] && [ "$nl" -gt 0 ] \
    && ok "$na alerts raised, every one in the store; $nl liquidations" || bad "log $na, store $ns, liquidated $nl"
[ "$(sqlite3 "$d/liqmon.db" 'PRAGMA integrity_check')" = ok ] && ok "the store: integrity_check ok" || bad "integrity_check"
grep -q '^==== post-mortem' "$tmp/out" && grep -q '^alerts by kind' "$tmp/out" \
    && grep -q '^largest predicted cascade: .* would cascade to -' "$tmp/out" && grep -q '^timeline ' "$tmp/out" \
    && grep -q -- '-[3-9]\.[0-9]*%' "$d/summary.txt" \
    && ok "post-mortem printed: alerts by kind, largest cascade, prices, timeline" || bad "post-mortem"
nsvg=0
for f in "$d"/*.svg; do
    [ -f "$f" ] || continue
    xmllint --noout "$f" 2> "$tmp/x.err" && rsvg-convert -o "$tmp/m.png" "$f" 2>> "$tmp/x.err" && [ -s "$tmp/m.png" ] \
        && nsvg=$((nsvg + 1)) || { bad "$f"; cat "$tmp/x.err"; }
done
[ $nsvg -eq 8 ] && ok "8 liquidation maps, well-formed, rendered by rsvg-convert" || bad "$nsvg maps"
# The commands it printed work as printed (with this run's directory).
grep '^  .*liqmonctl \(summary\|alerts\|timeline\|snapshots\|stats\) ' "$tmp/out" | sed 's/^  //' > "$tmp/cmds"
k=0
while read -r line; do
    sh -c "$line" > /dev/null 2> "$tmp/c.err" || { bad "printed command failed: $line"; cat "$tmp/c.err"; }
    k=$((k + 1))
done < "$tmp/cmds"
[ $k -ge 5 ] && ok "the $k liqmonctl commands it printed run" || bad "only $k commands printed"
DEMO_SECONDS=abc sh scripts/demo.sh > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 64 ] && grep -q "DEMO_SECONDS must be a whole number" "$tmp/err" && ok "DEMO_SECONDS=abc: 64, says why" || bad "DEMO_SECONDS=abc ($rc)"
exit $fail
