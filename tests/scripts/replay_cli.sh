#!/bin/sh
# liqmonctl replay and liqmond --replay on a recorded capture
# (tests/fixtures/captures/vsim-4venues.jsonl.gz: 4 s of liqmon-venue's
# four venues, with a burst of garbage frames), and on real frames other
# projects recorded (tests/fixtures/captures/README.md names each source).
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
grep -q '^{"frames":358,"rejected":10,"skipped":0,"bad_lines":0,"venues":{' "$tmp/a.json" \
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
grep -q '"frames":358,"rejected":10,"skipped":0,"bad_lines":2' "$tmp/m.json" && [ $rc -eq 0 ] \
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
grep -q '"frames":358,"rejected":10,"skipped":0,"bad_lines":2' "$tmp/s.json" && grep -q '^liqmonctl replay: stdin:6: not JSON' "$tmp/s.err" &&
    ok "replay -: bad lines named stdin:LINE" || { bad "replay -: messages"; cat "$tmp/s.err"; }
# One pass: stdin streams from a pipe; nothing is spooled (a TMPDIR that
# cannot be written to does not matter).
gzip -dc "$CAP" | TMPDIR="$tmp/nonexistent" "$CTL" replay --json - > "$tmp/p2.json" 2> "$tmp/p2.err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/a.json" "$tmp/p2.json" &&
    ok "replay - streams a pipe in one pass, no spool file" || { bad "replay - from a pipe (exit $rc)"; cat "$tmp/p2.err"; }
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

# Real frames recorded by others (tests/fixtures/captures/README.md).
# A Bybit orderbook.50 capture: the book is the capture's depth, valid.
"$CTL" replay --json tests/fixtures/captures/bybit-orderbook50.jsonl > "$tmp/b50.json" 2> "$tmp/b50.err"
grep -q '"bybit-linear":{"frames":2,"rejected":0,"rejected_by_reason":{},"skipped":0,' "$tmp/b50.json" &&
    grep -q '"bybit-linear:BTCUSDT":{"mark":null,"best_bid":16493,"best_ask":16611,"book_valid":true,.*"bid_levels":1,"ask_levels":2,' "$tmp/b50.json" \
    && ok "Bybit orderbook.50 capture: a valid book" || { bad "Bybit orderbook.50 capture"; cat "$tmp/b50.json" "$tmp/b50.err"; }
# Liquidation prints of symbols with no book or mark in the capture: prints.
"$CTL" replay --json tests/fixtures/captures/real-liquidations.jsonl > "$tmp/liq.json" 2> "$tmp/liq.err"
python3 - "$tmp/liq.json" <<'EOF' && ok "prints of undiscovered symbols counted as prints" || { bad "prints of undiscovered symbols"; cat "$tmp/liq.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
v = d["venues"]
assert d["rejected"] == 0, d["rejected"]
assert [v[k]["events"]["liquidation"] for k in ("binance-usdm", "bybit-linear", "okx-swap")] == [3, 3, 2]
assert {"binance-usdm:MANTAUSDT", "binance-usdm:XRPUSDT", "bybit-linear:STRKUSDT",
        "okx-swap:CELO-USDT-SWAP", "okx-swap:BTC-USDT-SWAP"} <= set(d["instruments"])
assert "okx-swap:CELO-USDT-SWAP: no instrument file: sizes stay in contracts" in d["notes"]
EOF
grep -q '^liqmonctl replay: note: bybit-linear:STRKUSDT: no instrument file$' "$tmp/liq.err" \
    && ok "instruments without a file: noted on stderr" || { bad "no-file notes"; cat "$tmp/liq.err"; }
# A Binance diff older than the REST snapshot: skipped by rule, not rejected.
"$CTL" replay --json tests/fixtures/captures/binance-testnet-older-than-snapshot.jsonl > "$tmp/old.json" 2> /dev/null
grep -q '^{"frames":3,"rejected":0,"skipped":1,' "$tmp/old.json" &&
    grep -q '"binance-usdm":{"frames":3,"rejected":0,"rejected_by_reason":{},"skipped":1,"skipped_by_rule":{"older_than_snapshot":1},' "$tmp/old.json" \
    && ok "diff older than the snapshot: skipped, not rejected" || { bad "older than the snapshot"; cat "$tmp/old.json"; }
"$CTL" replay tests/fixtures/captures/binance-testnet-older-than-snapshot.jsonl > "$tmp/old.txt" 2>&1
grep -q 'binance-usdm: 3 frames, 0 rejected, 1 skipped' "$tmp/old.txt" && grep -q 'skipped  older_than_snapshot 1' "$tmp/old.txt" \
    && ok "text summary: skipped per rule" || { bad "text summary: skipped"; cat "$tmp/old.txt"; }
# Two depths of one symbol (the real orderbook.50 frames, then SYNTHETIC
# orderbook.500 ones): the deepest is replayed, and a note says so.
python3 - tests/fixtures/captures/bybit-orderbook50.jsonl "$tmp/depths.jsonl" <<'EOF'
import json, sys
out = open(sys.argv[2], "w")
out.write(open(sys.argv[1]).read())
def put(ts, frame):
    out.write(json.dumps({"ts": ts, "venue": "bybit-linear", "src": "ws",
                          "frame": json.dumps(frame, separators=(",", ":"))},
                         separators=(",", ":")) + "\n")
t = 1672304486000000000
put(t, {"topic": "orderbook.500.BTCUSDT", "type": "snapshot", "ts": 1672304486000,
        "data": {"s": "BTCUSDT", "b": [["16493.00", "0.100"], ["16480.00", "2.5"]],
                 "a": [["16611.00", "0.129"], ["16700.00", "4"]], "u": 900, "seq": 1}})
put(t + 10**8, {"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1672304486100,
                "data": {"s": "BTCUSDT", "b": [["16493.00", "0"]], "a": [], "u": 18521290, "seq": 2}})
EOF
"$CTL" replay --json "$tmp/depths.jsonl" > "$tmp/d.json" 2> "$tmp/d.err"
note='bybit-linear:BTCUSDT: replaying orderbook.500 (the capture also has orderbook.50: 2 frames used until the first orderbook.500 snapshot, 1 ignored)'
grep -qF "liqmonctl replay: note: $note" "$tmp/d.err" && grep -qF "\"notes\":[\"$note\"]" "$tmp/d.json" &&
    grep -q '"skipped_by_rule":{"other_depth":1}' "$tmp/d.json" && grep -q '"bid_levels":2,"ask_levels":2,' "$tmp/d.json" \
    && ok "two depths: the deepest replayed, said on stderr and in the summary" || { bad "two depths"; cat "$tmp/d.err" "$tmp/d.json"; }
"$CTL" replay "$tmp/depths.jsonl" 2> /dev/null | grep -qF "  $note" \
    && ok "two depths: the note in the text summary" || bad "two depths: text summary"

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
# ... and on the real prints (liqmond's own flow, whichever pass it runs).
"$D" --replay tests/fixtures/captures/real-liquidations.jsonl --instruments conf/instruments \
    --json > "$tmp/dl.json" 2> "$tmp/dl.err"
python3 - "$tmp/dl.json" <<'EOF' && ok "liqmond --replay counts prints of undiscovered symbols" || { bad "liqmond --replay prints"; cat "$tmp/dl.err"; }
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
v = d["venues"]
assert [v[k]["events"]["liquidation"] for k in ("binance-usdm", "bybit-linear", "okx-swap")] == [3, 3, 2]
assert all(v[k]["rejected"] == 0 for k in v)
EOF
exit $fail
