#!/bin/sh
# Fault test (make faults): kill -9 of liqmond during heavy writes, KILLS
# (20) times on the same store.  liqmon-venue crashes the market 30% over
# 120 s from t=1 s, so every run of the daemon raises a burst of
# position_near/position_liquidated/cascade_risk alerts, stores the
# venues' liquidation prints and writes a snapshot of every instrument
# every second (snapshot_interval = 1s); each run is killed 0.3 .. 3 s in.
# After every kill:
#   - PRAGMA integrity_check is "ok";
#   - the run's stored alerts are ids 1..K and, field for field, the first
#     K records of that run's JSONL alert log (a prefix);
#   - the run row is there, stopped_ns NULL (it crashed).
# Then a last run on the same store, stopped with SIGTERM: a new run row
# (KILLS + 1 runs), exit 0, new alerts stored, equal to its log, and
# prints and snapshots of its own.
# (tests/scripts/daemon_store.sh does 10 kills in make check; this is the
# heavier version.)
. tests/scripts/lib/live.sh
live_init kill9
KILLS=${KILLS:-20}

live_venue --seed 11 --crash-at 1 --crash-pct 30 --crash-secs 120
live_conf "$tmp/d.conf" 's/^snapshot_interval = .*/snapshot_interval = 1s/' \
    's/^\[alerts\]$/[alerts]\nclear_after = 2s/'
q() { sqlite3 "$tmp/s.db" "$1" 2>&1; }

t_start=$(date +%s)
k=1
nz=0
while [ $k -le "$KILLS" ]; do
    live_daemon "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$tmp/k$k.jsonl"
    sleep "$(awk -v s="$k$$" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 2.7 }')"
    kill -9 "$dpid"
    wait "$dpid" 2>/dev/null
    dpid=
    ic=$(q 'PRAGMA integrity_check')
    out=$(check_prefix "$tmp/s.db" "$k" "$tmp/k$k.jsonl" 2>&1)
    prc=$?
    runrow=$(q "SELECT count(*) FROM runs WHERE id = $k AND stopped_ns IS NULL")
    if [ "$ic" = "ok" ] && [ $prc -eq 0 ] && [ "$runrow" = "1" ]; then
        echo "# kill $k: integrity ok, stored/logged alerts $out," \
            "prints $(q "SELECT count(*) FROM liq_prints WHERE run_id = $k")," \
            "snapshots $(q "SELECT count(*) FROM snapshots WHERE run_id = $k")"
        [ "${out%% *}" -gt 0 ] && nz=$((nz + 1))
    else
        bad "kill $k: integrity '$ic', run row '$runrow', prefix check: $out"
    fi
    k=$((k + 1))
done
[ $fail -eq 0 ] && ok "$KILLS kills -9: integrity ok, stored alerts a prefix of the log each time ($(( $(date +%s) - t_start )) s)"
[ $nz -ge $((KILLS / 2)) ] && ok "$nz of $KILLS killed runs had stored alerts" \
    || bad "only $nz of $KILLS killed runs stored alerts: not killed during writes"
[ "$(q 'SELECT count(*) FROM liq_prints')" -gt 0 ] && [ "$(q 'SELECT count(*) FROM snapshots')" -gt 0 ] \
    && ok "prints and snapshots were being written" || bad "no prints or snapshots stored"

# ---- the next start carries on --------------------------------------------
last=$((KILLS + 1))
live_daemon "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$tmp/last.jsonl"
sleep 3
live_stop_daemon
[ $drc -eq 0 ] && [ "$(q 'SELECT count(*) FROM runs')" = "$last" ] \
    && [ "$(q "SELECT count(*) FROM runs WHERE id = $last AND stopped_ns IS NOT NULL")" = 1 ] \
    && ok "restart on the same store: run $last, stopped cleanly" \
    || bad "restart: exit $drc, runs $(q 'SELECT count(*) FROM runs')"
out=$(check_prefix "$tmp/s.db" $last "$tmp/last.jsonl" exact 2>&1)
if [ $? -eq 0 ] && [ "${out%% *}" -gt 0 ]; then
    ok "last run: new alerts stored, equal to its log ($out)"
else
    bad "last run: $out"
fi
[ "$(q "SELECT count(*) FROM snapshots WHERE run_id = $last")" -gt 0 ] \
    && ok "last run: snapshots stored" || bad "last run: no snapshots"
[ "$(q 'PRAGMA integrity_check')" = "ok" ] && ok "final integrity_check" || bad "final integrity_check"
exit $fail
