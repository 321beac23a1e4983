#!/bin/sh
# make valgrind: liqmond under valgrind memcheck for VALGRIND_SECONDS (30)
# live against liqmon-venue over wss (a crashing market: alerts, prints,
# snapshots every second), with its alert log, store and control API.
# During the run: the control API is hit (status, instruments, positions,
# cascade, alerts, a position added and removed, liqmonctl status), one
# SIGHUP reload.  Then SIGTERM.  Asserts: exit 0 (valgrind's
# --error-exitcode=1 would make it 1), "ERROR SUMMARY: 0 errors", no
# definite or indirect leak.  tests/faults/valgrind.supp holds the
# suppressions (third-party false positives only, each explained).
. tests/scripts/lib/live.sh
live_init valgrind
VALGRIND_SECONDS=${VALGRIND_SECONDS:-30}
command -v valgrind > /dev/null || { skip "valgrind" "valgrind is not installed"; exit 0; }

live_venue --seed 51 --crash-at 3 --crash-pct 8 --crash-secs 30
live_conf "$tmp/d.conf" 's/^snapshot_interval = .*/snapshot_interval = 1s/' \
    's/^\[alerts\]$/[alerts]\nclear_after = 2s/'
valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 --suppressions=tests/faults/valgrind.supp \
    --log-file="$tmp/vg.log" \
    "$D" -c "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$tmp/a.jsonl" \
    > "$tmp/d.out" 2> "$tmp/d.err" &
dpid=$!
wait_for 'hyperliquid: agg connected' "$tmp/d.err" 600 && ok "connected under valgrind" \
    || bad "did not connect within 60 s"
t_end=$(( $(date +%s) + VALGRIND_SECONDS ))
sleep 3
printf 'id,venue,symbol,side,qty,entry,liq_price\nvg-1,bybit-linear,BTCUSDT,long,1,90000,85000\n' > "$tmp/one.csv"
n=0
round=0
while [ "$(date +%s)" -lt "$t_end" ]; do
    round=$((round + 1))
    for p in /v1/status /v1/instruments '/v1/positions?limit=5' /v1/cascade/okx-swap/BTC-USDT-SWAP \
             /v1/alerts /v1/alerts/active /v1/nope; do
        api "$p" > "$tmp/api.out" 2>&1 && head -n 1 "$tmp/api.out" | grep -q '^HTTP/1.1 [24]0' && n=$((n + 1))
    done
    "$CTL" positions add --socket "$tmp/ctl.sock" "$tmp/one.csv" > /dev/null 2>&1 && n=$((n + 1))
    "$CTL" positions rm --socket "$tmp/ctl.sock" --instrument bybit-linear:BTCUSDT vg-1 > /dev/null 2>&1 && n=$((n + 1))
    "$CTL" status --socket "$tmp/ctl.sock" > /dev/null 2>&1 && n=$((n + 1))
    [ $round -eq 2 ] && kill -HUP "$dpid"
    sleep 3
done
echo "# $n control API requests answered, $(lines "$tmp/a.jsonl") alerts logged"
[ $n -ge 20 ] && ok "control API answered under valgrind" || bad "control API: only $n answers"
grep -q 'reload: .* applied' "$tmp/d.err" && ok "SIGHUP reload applied" || bad "no reload"
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
grep -E 'in use at exit|All heap blocks|ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$tmp/vg.log" | sed 's/^==[0-9]*== /# /'
[ $rc -eq 0 ] && ok "SIGTERM: exit 0 (no memcheck error)" || bad "exit $rc"
grep -q 'ERROR SUMMARY: 0 errors' "$tmp/vg.log" && ok "memcheck: 0 errors" \
    || { bad "memcheck errors"; grep -A25 -m3 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and)|definitely lost in|indirectly lost in' "$tmp/vg.log" | head -80; }
if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' "$tmp/vg.log"; then
    bad "definite or indirect leaks"
    grep -B2 -A20 -E 'are definitely lost|are indirectly lost' "$tmp/vg.log" | head -80
else
    ok "no definite or indirect leak"
fi
if [ $fail -ne 0 ]; then
    cp "$tmp/vg.log" "${TMPDIR:-/tmp}/liqmon-valgrind.log"
    echo "# the full log: ${TMPDIR:-/tmp}/liqmon-valgrind.log"
fi
exit $fail
