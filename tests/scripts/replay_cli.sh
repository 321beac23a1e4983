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
grep -q '"binance-usdm:BTCUSDT":{"mark":89986.63787715,"best_bid":89991.8,"best_ask":89994.4,"book_valid":true,"invalid_reason":"","seq":7000297531,"resyncs":0,"bid_levels":100,"ask_levels":100,"book_reach_pct":{' "$tmp/a.json" \
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

"$CTL" replay /nonexistent.jsonl > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 66 ] && [ "$(cat "$tmp/err")" = "liqmonctl replay: /nonexistent.jsonl: No such file or directory" ] &&
    ok "missing capture exits 66" || { bad "missing capture (exit $rc)"; cat "$tmp/err"; }
"$CTL" replay --json "$CAP" /nonexistent.jsonl > "$tmp/out" 2> /dev/null
rc=$?
[ $rc -eq 66 ] && [ ! -s "$tmp/out" ] && ok "a missing second capture: 66 before replaying" ||
    bad "a missing second capture (exit $rc)"
"$CTL" replay tests/fixtures > /dev/null 2> "$tmp/err"
[ $? -eq 66 ] && grep -q 'tests/fixtures: is a directory' "$tmp/err" && ok "a directory exits 66" ||
    { bad "a directory"; cat "$tmp/err"; }
"$CTL" replay --instruments /nonexistent "$CAP" > /dev/null 2> "$tmp/err"
[ $? -eq 66 ] && grep -qx 'liqmonctl replay: --instruments /nonexistent: No such file or directory' "$tmp/err" &&
    ok "--instruments DIR missing exits 66" || { bad "--instruments DIR missing"; cat "$tmp/err"; }

# '-' is stdin (plain or gzipped), read once, named "stdin" in messages.
"$CTL" replay --json - < "$CAP" > "$tmp/s.json" 2> /dev/null
rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/a.json" "$tmp/s.json" && ok "replay - reads a gzipped capture from stdin" ||
    bad "replay - (exit $rc)"
"$CTL" replay --json - < "$tmp/mixed.jsonl" > "$tmp/s.json" 2> "$tmp/s.err"
grep -q '"frames":358,"rejected":10,"bad_lines":2' "$tmp/s.json" && grep -q '^liqmonctl replay: stdin:6: not JSON' "$tmp/s.err" &&
    ok "replay -: bad lines named stdin:LINE" || { bad "replay -: messages"; cat "$tmp/s.err"; }
"$CTL" replay - - < "$CAP" > /dev/null 2> "$tmp/err"
[ $? -eq 64 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && ok "stdin twice exits 64" || { bad "stdin twice"; cat "$tmp/err"; }

# A damaged capture: 65, one line saying so (the capture reader's
# CAPTURE_EDATA: corrupt deflate data, a truncated gzip stream, garbage
# after it), nothing on stdout.
python3 - "$CAP" "$tmp" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
c = bytearray(d)
for i in range(5000, 5064):
    c[i] ^= 0xa5
open(sys.argv[2] + '/corrupt.jsonl.gz', 'wb').write(c)
open(sys.argv[2] + '/trunc.jsonl.gz', 'wb').write(d[:20000])
open(sys.argv[2] + '/garbage.jsonl.gz', 'wb').write(d + b'garbage\n')
EOF
for c in "corrupt:corrupt gzip data" "trunc:truncated gzip stream" "garbage:garbage after the end"; do
    f=${c%%:*}; what=${c#*:}
    "$CTL" replay --json "$tmp/$f.jsonl.gz" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -eq 65 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
       grep -q "^liqmonctl replay: $tmp/$f.jsonl.gz: .*$what" "$tmp/err"; then
        ok "damaged capture ($f) exits 65"
    else
        bad "damaged capture ($f) (exit $rc)"; cat "$tmp/err"
    fi
done
# ... from stdin too, named so.
"$CTL" replay --json - < "$tmp/trunc.jsonl.gz" > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 65 ] && grep -q '^liqmonctl replay: stdin: truncated gzip stream' "$tmp/err" &&
    ok "damaged capture on stdin exits 65" || { bad "damaged capture on stdin (exit $rc)"; cat "$tmp/err"; }

# Usage: 64, one line.
"$CTL" replay --speed x "$CAP" > /dev/null 2> "$tmp/err"
[ $? -eq 64 ] && [ "$(cat "$tmp/err")" = "liqmonctl replay: --speed: must be a number > 0 (got 'x')" ] &&
    ok "--speed x exits 64" || { bad "--speed x"; cat "$tmp/err"; }
"$CTL" replay --json --speed 1000 "$CAP" > "$tmp/p.json" 2> /dev/null
[ $? -eq 0 ] && cmp -s "$tmp/a.json" "$tmp/p.json" && ok "--speed paces, same answer" || bad "--speed 1000"
"$CTL" replay --help > "$tmp/out" 2> "$tmp/err"
[ $? -eq 0 ] && grep -q '^usage: liqmonctl replay' "$tmp/out" && [ ! -s "$tmp/err" ] &&
    ok "replay --help exits 0" || bad "replay --help"

# Instruments nobody configured are found in the capture itself.
SOL=tests/fixtures/captures/binance-solusdt-unconfigured.jsonl
"$CTL" replay --json "$SOL" > "$tmp/sol.json" 2> "$tmp/sol.err"
grep -q '"binance-usdm:SOLUSDT":{"mark":150.15,"best_bid":150.1,"best_ask":150.2,"book_valid":true,.*"bid_levels":3,"ask_levels":2,' "$tmp/sol.json" \
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
# The summary's shape is liqmond's (src/svc): read it as JSON, and accept
# the ladder's validity as "ladder_valid" or as "ladder": {"valid": ...}.
python3 - "$tmp/d1.json" <<'EOF' && ok "liqmond --replay ladders on valid books" || bad "liqmond --replay ladders"
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
i = d["instruments"]["binance-usdm:BTCUSDT"]
lv = i["ladder_valid"] if "ladder_valid" in i else i["ladder"]["valid"]
sys.exit(0 if i["mark"] == 89986.63787715 and i["book_valid"] is True and lv is True else 1)
EOF
exit $fail
