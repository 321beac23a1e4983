#!/bin/sh
# ctl_cli.sh - liqmonctl's daemon commands (src/cli/ctl.c) against a live
# liqmond fed by liqmon-venue over wss: status, positions ls|add|rm,
# cascade, alerts --active; the control socket from --socket and
# $LIQMON_SOCKET; 69 for a socket nobody serves, 65 for what the daemon
# refuses, one line on stderr each; --help everywhere.
# The venue and daemon setup: tests/scripts/lib/live.sh.
. tests/scripts/lib/live.sh
live_init ctl
live_venue --seed 9
cp -r conf/instruments "$tmp/instruments"
cp conf/examples/positions-demo.csv "$tmp/positions.csv"
live_conf "$tmp/d.conf" "s#^instruments_dir = .*#instruments_dir = $tmp/instruments#" \
    "s#^positions = .*#positions = $tmp/positions.csv#"
live_daemon "$tmp/d.conf"
wait_for 'binance-usdm: public connected' "$tmp/d.err" || bad "binance did not connect"
wait_for 'bybit-linear: public connected' "$tmp/d.err"
i=0
while [ $i -lt 100 ] && [ ! -S "$tmp/ctl.sock" ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
S="--socket $tmp/ctl.sock"

# one_line CODE FILE: exactly one line in FILE and the code wanted
one_line() { [ "$(wc -l < "$2")" -eq 1 ]; }

# ---- status
"$CTL" status $S > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q '^liqmond .*, up ' "$tmp/out" && grep -q '^connections  [0-9]* up / [0-9]*$' "$tmp/out" \
    && grep -q '^books  ' "$tmp/out" && grep -q '^positions  ' "$tmp/out" && grep -q '^alerts  ' "$tmp/out" \
    && grep -q '^store queue' "$tmp/out" && [ ! -s "$tmp/err" ] \
    && ok "status: the summary" || { bad "status (exit $rc)"; cat "$tmp/out" "$tmp/err"; }
LIQMON_SOCKET=$tmp/ctl.sock "$CTL" status --json > "$tmp/st.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && python3 - "$tmp/st.json" <<'EOF' && ok "status --json (socket from \$LIQMON_SOCKET)" || { bad "status --json (exit $rc)"; cat "$tmp/err"; }
import json, sys
st = json.load(open(sys.argv[1]))
assert "uptime_s" in st and "version" in st, st
assert st["positions"]["total"] > 0, st["positions"]
EOF

# ---- positions ls
"$CTL" positions ls $S --json > "$tmp/ls.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["count"] > 0, d["count"]' "$tmp/ls.json" \
    && ok "positions ls --json: count > 0" || { bad "positions ls --json (exit $rc)"; cat "$tmp/err"; }
"$CTL" positions ls $S --instrument binance-usdm:BTCUSDT > "$tmp/ls.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && head -n 1 "$tmp/ls.out" | grep -q '^instrument  *id  ' && tail -n 1 "$tmp/ls.out" | grep -q '^[1-9][0-9]* of [0-9]* positions' \
    && ok "positions ls: a table" || { bad "positions ls (exit $rc)"; head -3 "$tmp/ls.out"; cat "$tmp/err"; }

# ---- positions add (CSV, 2 rows), ls shows them; rm one
printf 'id,venue,symbol,side,qty,entry,liq_price\nctl-a,binance-usdm,BTCUSDT,long,1,90000,80000\nctl-b,binance-usdm,BTCUSDT,short,2,90000,99000\n' > "$tmp/two.csv"
"$CTL" positions add $S "$tmp/two.csv" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q '^2 rows: 2 added, 0 replaced$' "$tmp/out" && ok "positions add: 2 CSV rows" \
    || { bad "positions add (exit $rc)"; cat "$tmp/out" "$tmp/err"; }
"$CTL" positions ls $S --instrument binance-usdm:BTCUSDT --limit 100000 > "$tmp/ls.out" 2>&1
grep -q ' ctl-a ' "$tmp/ls.out" && grep -q ' ctl-b ' "$tmp/ls.out" && ok "positions ls shows the added rows" \
    || bad "positions ls does not show ctl-a and ctl-b"
"$CTL" positions rm $S --instrument binance-usdm:BTCUSDT ctl-a > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q '^removed ctl-a from binance-usdm:BTCUSDT$' "$tmp/out" && ok "positions rm" \
    || { bad "positions rm (exit $rc)"; cat "$tmp/out" "$tmp/err"; }
"$CTL" positions ls $S --instrument binance-usdm:BTCUSDT --limit 100000 > "$tmp/ls.out" 2>&1
! grep -q ' ctl-a ' "$tmp/ls.out" && grep -q ' ctl-b ' "$tmp/ls.out" && ok "positions ls: ctl-a gone, ctl-b stays" \
    || bad "positions ls after rm"
printf '{"id":"ctl-c","venue":"binance-usdm","symbol":"BTCUSDT","side":"long","qty":"1","entry":"90000","liq_price":"81000"}\n' |
    "$CTL" positions add $S - > "$tmp/out" 2> "$tmp/err" && grep -q '^1 rows: 1 added' "$tmp/out" \
    && ok "positions add -: JSON Lines on stdin" || { bad "positions add - (JSON Lines)"; cat "$tmp/out" "$tmp/err"; }
"$CTL" positions rm $S ctl-nope > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 65 ] && one_line 65 "$tmp/err" && grep -q "^liqmonctl positions rm: no position 'ctl-nope'" "$tmp/err" \
    && ok "positions rm of an unknown id: 65, one line" || { bad "positions rm unknown (exit $rc)"; cat "$tmp/err"; }
printf 'id,venue,symbol,side,qty,entry,liq_price\nx1,binance-usdm,NOPEUSDT,long,1,1,1\n' > "$tmp/badrow.csv"
"$CTL" positions add $S "$tmp/badrow.csv" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 65 ] && one_line 65 "$tmp/err" && grep -q '^liqmonctl positions add: rows refused' "$tmp/err" \
    && ok "positions add of a refused row: 65, one line" || { bad "positions add refused (exit $rc)"; cat "$tmp/err"; }

# ---- cascade
"$CTL" cascade $S binance-usdm BTCUSDT > "$tmp/cc.out" 2> "$tmp/err"; rc=$?
nrows=$(grep -cE '^(down|up) ' "$tmp/cc.out")
[ $rc -eq 0 ] && [ "$nrows" -eq 18 ] && head -n 1 "$tmp/cc.out" | grep -q '^binance-usdm:BTCUSDT: ref ' \
    && grep -q '^side  *shock  *rounds  *liquidated  *qty  *final price  *move  *amplification  exhausted$' "$tmp/cc.out" \
    && ok "cascade: 18 rows (9 shocks x 2 sides)" || { bad "cascade (exit $rc, $nrows rows)"; cat "$tmp/cc.out" "$tmp/err"; }
"$CTL" cascade $S --json binance-usdm BTCUSDT > "$tmp/cc.json" 2> "$tmp/err" &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["ladder"]["rows"]) == 18' "$tmp/cc.json" \
    && ok "cascade --json" || bad "cascade --json"
"$CTL" cascade $S binance-usdm NOPEUSDT > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 65 ] && one_line 65 "$tmp/err" && grep -q '^liqmonctl cascade: binance-usdm/NOPEUSDT is not a watched instrument' "$tmp/err" \
    && [ ! -s "$tmp/out" ] && ok "cascade of an unknown instrument: 65, one line" || { bad "cascade unknown (exit $rc)"; cat "$tmp/err"; }
"$CTL" positions ls $S --instrument binance-usdm:NOPEUSDT > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 65 ] && one_line 65 "$tmp/err" && grep -q '^liqmonctl positions ls: binance-usdm:NOPEUSDT is not a watched instrument$' "$tmp/err" \
    && ok "positions ls of an unknown instrument: 65, one line" || { bad "positions ls unknown (exit $rc)"; cat "$tmp/err"; }

# ---- alerts --active
"$CTL" alerts --active $S > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && grep -qE '(firing|nothing firing)$' "$tmp/out" \
    && ok "alerts --active" || { bad "alerts --active (exit $rc)"; cat "$tmp/out" "$tmp/err"; }
"$CTL" alerts $S --active --json > "$tmp/al.json" 2> "$tmp/err" &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["count"] == len(d["alerts"])' "$tmp/al.json" \
    && ok "alerts --active --json" || bad "alerts --active --json"

# ---- a socket nobody serves: 69, one line naming it
for c in "status" "positions ls" "positions rm x" "cascade binance-usdm BTCUSDT" "alerts --active"; do
    # shellcheck disable=SC2086
    "$CTL" $c --socket "$tmp/none.sock" > "$tmp/out" 2> "$tmp/err"; rc=$?
    [ $rc -eq 69 ] && one_line 69 "$tmp/err" && grep -q "^liqmonctl ${c%% [a-z-]*}.*: cannot connect to $tmp/none.sock: No such file or directory (is liqmond running? its \[control\] socket)$" "$tmp/err" \
        && ok "$c on a missing socket: 69, one line" || { bad "$c on a missing socket (exit $rc)"; cat "$tmp/err"; }
done
printf 'id,venue,symbol,side,qty,entry,liq_price\n' | "$CTL" positions add --socket "$tmp/none.sock" - > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 69 ] && one_line 69 "$tmp/err" && ok "positions add on a missing socket: 69" || bad "positions add on a missing socket (exit $rc)"

# ---- usage and --help
for c in "status" "positions ls" "positions add" "positions rm" "cascade" "alerts --active"; do
    # shellcheck disable=SC2086
    "$CTL" $c --help > "$tmp/out" 2> "$tmp/err"; rc=$?
    [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && head -n 1 "$tmp/out" | grep -q "^usage: liqmonctl $c" \
        && grep -q 'Exit status' "$tmp/out" && ok "$c --help" || { bad "$c --help (exit $rc)"; cat "$tmp/err"; }
done
"$CTL" cascade $S binance-usdm > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 64 ] && grep -qx 'liqmonctl cascade: missing SYMBOL (see liqmonctl cascade --help)' "$tmp/err" \
    && ok "cascade without SYMBOL: 64" || { bad "cascade without SYMBOL (exit $rc)"; cat "$tmp/err"; }
"$CTL" status --frob > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 64 ] && grep -qx "liqmonctl status: unknown option '--frob' (see liqmonctl status --help)" "$tmp/err" \
    && ok "status --frob: 64" || { bad "status --frob (exit $rc)"; cat "$tmp/err"; }
"$CTL" positions add > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 64 ] && grep -qx 'liqmonctl positions add: missing FILE (see liqmonctl positions add --help)' "$tmp/err" \
    && ok "positions add without FILE: 64" || { bad "positions add without FILE (exit $rc)"; cat "$tmp/err"; }
"$CTL" positions add $S /nonexistent.csv > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 66 ] && one_line 66 "$tmp/err" && ok "positions add of a missing FILE: 66" || { bad "positions add missing file (exit $rc)"; cat "$tmp/err"; }

# ---- the daemon stops cleanly
kill -0 "$dpid" 2>/dev/null && ok "daemon up after the requests" || bad "daemon died"
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || { bad "SIGTERM: exit $rc"; tail -5 "$tmp/d.err"; }
exit $fail
