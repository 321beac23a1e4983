#!/bin/sh
# liqmond live against liqmon-venue over wss, with the alert log and the
# store: SIGHUP reopens the alert log (logrotate) and keeps the daemon up;
# SIGTERM stops it within 5 s with a final snapshot, the run record and an
# intact store holding exactly the log's alerts; kill -9 at random moments
# during heavy writes (alerts, prints, snapshots), 10 times on the same
# store: integrity_check ok every time, each run's stored alerts exactly
# the first records of its alert log, and the next start carries on.
# The venue and config setup: tests/scripts/lib/live.sh.
. tests/scripts/lib/live.sh
live_init daemon_store
live_name="daemon store"
KILLS=${KILLS:-10}
# A crash from t=2 s: positions near their LP at once, liquidations and
# cascade alerts soon after, prints all along.
live_venue --seed 5 --crash-at 2 --crash-pct 6 --crash-secs 20
live_conf "$tmp/d.conf" 's/^snapshot_interval = .*/snapshot_interval = 1s/' \
    's/^\[alerts\]$/[alerts]\nclear_after = 2s/'

# start_daemon LOG: liqmond on the shared store, this run's alert log
start_daemon() {
    "$D" --config "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$1" \
        > "$tmp/d.out" 2>> "$tmp/d.err" &
    dpid=$!
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
q() { sqlite3 "$tmp/s.db" "$1" 2>&1; }

# ---- run 1: SIGHUP reopens the log, SIGTERM stops cleanly -------------
start_daemon "$tmp/a.jsonl"
i=0
while [ $i -lt 100 ] && [ "$(lines "$tmp/a.jsonl")" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(lines "$tmp/a.jsonl")" -ge 50 ] && ok "alerts written live" \
    || { bad "no alerts live"; tail -5 "$tmp/d.err"; }
mv "$tmp/a.jsonl" "$tmp/a.jsonl.1"
kill -HUP "$dpid"
sleep 0.3
kill -0 "$dpid" 2>/dev/null && ok "SIGHUP: still running" || bad "SIGHUP killed the daemon"
before=$(lines "$tmp/a.jsonl.1")
i=0
while [ $i -lt 100 ] && [ "$(lines "$tmp/a.jsonl")" -lt 1 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(lines "$tmp/a.jsonl")" -ge 1 ] && ok "SIGHUP: a new alert log at the path" \
    || bad "SIGHUP: nothing written to the reopened path"
sleep 1
kill -USR1 "$dpid"
sleep 0.2
kill -0 "$dpid" 2>/dev/null && ok "SIGUSR1: still running" || bad "SIGUSR1 killed the daemon"
t0=$(date +%s%N)
kill -TERM "$dpid"
wait "$dpid"
rc=$?
t1=$(date +%s%N)
dpid=
ms=$(( (t1 - t0) / 1000000 ))
[ $rc -eq 0 ] && [ $ms -lt 5000 ] && ok "SIGTERM: exit 0 in $ms ms" || bad "SIGTERM: exit $rc after $ms ms"
cat "$tmp/a.jsonl.1" "$tmp/a.jsonl" > "$tmp/run1.jsonl"
[ "$(q 'PRAGMA integrity_check')" = "ok" ] && ok "store intact after SIGTERM" || bad "integrity_check after SIGTERM"
[ "$(q 'SELECT count(*) FROM runs WHERE stopped_ns IS NOT NULL')" = "1" ] \
    && ok "run record stopped" || bad "run record: $(q 'SELECT * FROM runs')"
# the final snapshot: one per instrument at the run's last clock
[ "$(q 'SELECT count(*) FROM snapshots WHERE ts = (SELECT max(ts) FROM snapshots)')" -ge 8 ] \
    && ok "final snapshot of every instrument" || bad "final snapshot missing"

out=$(check_prefix "$tmp/s.db" 1 "$tmp/run1.jsonl" exact) && ok "run 1: store = alert log ($out)" \
    || bad "run 1: store and alert log differ: $out"

# ---- kill -9 during heavy writes, KILLS times, same store --------------
k=1
while [ $k -le "$KILLS" ]; do
    start_daemon "$tmp/k$k.jsonl"
    # 0.1 .. 2 s in: the start-up burst of alerts, positions and
    # snapshots is being written, then prints and snapshots every second
    sleep "$(awk -v s="$k$$" 'BEGIN { srand(s); printf "%.2f", 0.1 + rand() * 1.9 }')"
    kill -9 "$dpid"
    wait "$dpid" 2>/dev/null
    dpid=
    run=$((k + 1))
    ic=$(q 'PRAGMA integrity_check')
    out=$(check_prefix "$tmp/s.db" $run "$tmp/k$k.jsonl" prefix 2>&1)
    prc=$?
    if [ "$ic" = "ok" ] && [ $prc -eq 0 ]; then
        echo "# kill $k: integrity ok, stored/logged alerts $out"
    else
        bad "kill $k: integrity '$ic', prefix check: $out"
    fi
    k=$((k + 1))
done
[ $fail -eq 0 ] && ok "$KILLS kills: integrity ok and stored alerts a prefix of the log every time"
# every kill left its stored alerts: at least one run got some in
[ "$(q 'SELECT count(DISTINCT run_id) FROM alerts')" -ge 2 ] \
    && ok "alerts committed before kills" || bad "no alerts stored by killed runs"

# ---- and it carries on --------------------------------------------------
start_daemon "$tmp/last.jsonl"
sleep 2.5
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
last=$((KILLS + 2))
[ $rc -eq 0 ] && [ "$(q "SELECT count(*) FROM runs")" = "$last" ] \
    && ok "restart on the same store carries on (run $last)" || bad "restart: exit $rc, runs $(q 'SELECT count(*) FROM runs')"
out=$(check_prefix "$tmp/s.db" $last "$tmp/last.jsonl" exact) && ok "last run: store = alert log ($out)" \
    || bad "last run: $out"
[ "$(q 'PRAGMA integrity_check')" = "ok" ] || bad "final integrity_check"
exit $fail
