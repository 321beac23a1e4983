#!/bin/sh
# liqmonctl replay and liqmond --replay on a recorded capture
# (tests/fixtures/captures/vsim-4venues.jsonl.gz: 4 s of liqmon-venue's
# four venues, with a burst of garbage frames).
BUILD=${BUILD:-build}
CTL="$BUILD/liqmonctl"
D="$BUILD/liqmond"
CAP=tests/fixtures/captures/vsim-4venues.jsonl.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

"$CTL" replay --json "$CAP" > "$tmp/a.json" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok "replay --json exits 0" || bad "replay --json exits $rc"
grep -q '^{"frames":358,"rejected":10,"bad_lines":0,"venues":{' "$tmp/a.json" \
    && ok "frames and rejections counted" || { bad "frames and rejections counted"; head -c 300 "$tmp/a.json"; }
n=$(grep -o '"book_valid":true' "$tmp/a.json" | wc -l)
[ "$n" -eq 8 ] && ok "all 8 books valid after replay" || bad "books valid: $n of 8"
grep -q '"binance-usdm":{"frames":82,"rejected":4,"rejected_by_reason":{"json":2,"unknown_type":2}' "$tmp/a.json" \
    && ok "rejections per venue and reason" || bad "rejections per venue and reason"
grep -q '"binance-usdm:BTCUSDT":{"mark":89986.63787715,"best_bid":89991.8,"best_ask":89994.4,"bid_levels":100,"ask_levels":100,"book_valid":true}' "$tmp/a.json" \
    && ok "instrument state" || bad "instrument state"

"$CTL" replay --json "$CAP" > "$tmp/b.json" 2>/dev/null
cmp -s "$tmp/a.json" "$tmp/b.json" && ok "same capture, same answer" || bad "replay is not deterministic"

"$CTL" replay "$CAP" > "$tmp/text" 2>&1
grep -q 'binance-usdm:BTCUSDT .* valid' "$tmp/text" && grep -q 'rejected json' "$tmp/text" \
    && ok "text summary" || bad "text summary"

# Bad lines: counted, reported with their line number, replay goes on.
{ gzip -dc "$CAP" | head -n 5; echo 'not json at all'
  echo '{"ts":1,"venue":"kraken","src":"ws","frame":"{}"}'
  gzip -dc "$CAP" | tail -n +6; } > "$tmp/mixed.jsonl"
"$CTL" replay --json "$tmp/mixed.jsonl" > "$tmp/m.json" 2> "$tmp/m.err"
rc=$?
grep -q '"frames":358,"rejected":10,"bad_lines":2' "$tmp/m.json" && [ $rc -eq 0 ] \
    && ok "bad lines counted, replay goes on" || { bad "bad lines counted"; cat "$tmp/m.err"; }
grep -q "mixed.jsonl:6: not JSON" "$tmp/m.err" && grep -q "mixed.jsonl:7: venue: unknown venue" "$tmp/m.err" \
    && ok "bad lines reported with line numbers" || { bad "bad line messages"; cat "$tmp/m.err"; }

"$CTL" replay /nonexistent.jsonl > /dev/null 2>&1
[ $? -eq 66 ] && ok "missing capture exits 66" || bad "missing capture exit code"

# Instruments nobody configured are found in the capture itself.
SOL=tests/fixtures/captures/binance-solusdt-unconfigured.jsonl
"$CTL" replay --json "$SOL" > "$tmp/sol.json" 2> "$tmp/sol.err"
grep -q '"binance-usdm:SOLUSDT":{"mark":150.15,"best_bid":150.1,"best_ask":150.2,"bid_levels":3,"ask_levels":2,"book_valid":true}' "$tmp/sol.json" \
    && grep -q 'binance-usdm:SOLUSDT: no instrument file' "$tmp/sol.err" \
    && ok "unconfigured instrument discovered from the capture" \
    || { bad "unconfigured instrument"; cat "$tmp/sol.json" "$tmp/sol.err"; }

# The daemon's replay: same pipeline plus the risk engine, deterministic.
"$D" --replay "$CAP" --instruments conf/instruments --positions conf/examples/positions.csv \
    --json > "$tmp/d1.json" 2> "$tmp/d.err"
rc=$?
"$D" --replay "$CAP" --instruments conf/instruments --positions conf/examples/positions.csv \
    --json > "$tmp/d2.json" 2>/dev/null
[ $rc -eq 0 ] && cmp -s "$tmp/d1.json" "$tmp/d2.json" \
    && ok "liqmond --replay is deterministic" || { bad "liqmond --replay"; cat "$tmp/d.err"; }
grep -q '"binance-usdm:BTCUSDT":{"mark":89986.63787715,"book_valid":true,"ladder_valid":true' "$tmp/d1.json" \
    && ok "liqmond --replay ladders on valid books" || bad "liqmond --replay ladders"
exit $fail
