#!/bin/sh
# api_restart.sh - positions changed through the control API survive a
# restart and a reload (store table api_positions, src/svc/apipos.c):
# an added position with an exact 8-decimal qty, a file position replaced,
# a file position removed; after SIGTERM and a new start on the same store
# (and again after SIGHUP) the API's positions are exactly as left.
. tests/scripts/lib/live.sh
live_init api_restart
live_venue --seed 4 --crash-at 1 --crash-pct 5 --crash-secs 3
live_conf "$tmp/d.conf" "s#^snapshot_interval = .*#snapshot_interval = 5s\npath = $tmp/s.db#"
S="--socket $tmp/ctl.sock"

start() {   # start LOGFILE
    "$D" -c "$tmp/d.conf" > /dev/null 2> "$1" &
    dpid=$!
    i=0
    while [ $i -lt 100 ] && ! "$CTL" status $S > /dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
}
stop() {
    live_stop_daemon
    [ $drc -eq 0 ] || bad "SIGTERM: exit $drc"
}
# ls_json FILE: every position of binance-usdm:BTCUSDT
ls_json() {
    "$CTL" positions ls $S --instrument binance-usdm:BTCUSDT --limit 100000 --json > "$1" 2> "$tmp/err" \
        || { bad "positions ls"; cat "$tmp/err"; }
}
check() {   # check FILE WHAT
    python3 - "$1" <<'EOF' && ok "$2" || bad "$2"
import json, sys
d = json.load(open(sys.argv[1]))
pos = {p["id"]: p for p in d["positions"]}
a = pos.get("api-new")
assert a is not None, "api-new missing"
assert str(a["qty"]) == "1.23456789", a
assert a["side"] == "short", a
r = pos.get("bin-BTCUSDT-0")
assert r is not None and str(r["qty"]) == "0.5" and r["side"] == "long", r
assert "bin-BTCUSDT-1" not in pos, "bin-BTCUSDT-1 should be removed"
assert "bin-BTCUSDT-2" in pos
EOF
}

start "$tmp/d1.err"
printf 'id,venue,symbol,side,qty,entry,liq_price,margin\napi-new,binance-usdm,BTCUSDT,short,1.23456789,90000,99000.5,\nbin-BTCUSDT-0,binance-usdm,BTCUSDT,long,0.5,90006.8,,150\n' > "$tmp/add.csv"
"$CTL" positions add $S "$tmp/add.csv" > "$tmp/out" 2> "$tmp/err" && grep -q '1 added, 1 replaced' "$tmp/out" \
    || { bad "positions add"; cat "$tmp/out" "$tmp/err"; }
"$CTL" positions rm $S --instrument binance-usdm:BTCUSDT bin-BTCUSDT-1 > "$tmp/out" 2> "$tmp/err" \
    || { bad "positions rm"; cat "$tmp/err"; }
ls_json "$tmp/ls1.json"
check "$tmp/ls1.json" "the changes are in force"
stop
n=$(sqlite3 "$tmp/s.db" "SELECT count(*) FROM api_positions")
[ "$n" = 3 ] && ok "api_positions holds the 3 standing changes" || bad "api_positions: $n rows"

start "$tmp/d2.err"
grep -q '3 api changes replayed over the positions file: 1 added, 1 replaced, 1 removed' "$tmp/d2.err" \
    && ok "restart: the log says what was replayed" || { bad "restart log"; grep positions "$tmp/d2.err"; }
ls_json "$tmp/ls2.json"
check "$tmp/ls2.json" "after a restart: added, replaced and removed positions as the API left them"
# Every position of the instrument the same (liquidated marks are the
# engine's, of the moment, and not part of a position).
python3 - "$tmp/ls1.json" "$tmp/ls2.json" <<'EOF' && ok "after a restart: the instrument's positions equal, field for field" || bad "positions differ after the restart"
import json, sys
def load(f):
    return {p["id"]: {k: v for k, v in p.items() if k not in ("in_cascade", "liquidated")}
            for p in json.load(open(f))["positions"]}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a == b, [(k, a[k], b.get(k)) for k in a if a[k] != b.get(k)][:3]
EOF

# GET /v1/alerts answers across the restart: the first run's records,
# read from the store at start.
n1=$(sqlite3 "$tmp/s.db" "SELECT count(*) FROM alerts WHERE run_id = 1")
curl -s --unix-socket "$tmp/ctl.sock" "http://liqmond/v1/alerts?limit=10000" > "$tmp/al.json"
python3 - "$tmp/al.json" "$n1" <<'EOF' && ok "after a restart: GET /v1/alerts has the first run's $n1 alerts (from the store)" || bad "GET /v1/alerts after the restart"
import json, sys
d = json.load(open(sys.argv[1]))
n1 = int(sys.argv[2])
assert n1 > 0, "the first run raised no alerts"
assert "store" in d["source"], d["source"]
assert d["count"] >= n1, (d["count"], n1)
ids = [a["id"] for a in d["alerts"][:n1]]
assert ids == list(range(1, n1 + 1)), ids[:5]
EOF

# A change made in this run, then a reload: the file is reloaded and the
# API's changes (this run's included) replayed over it.
printf '{"id":"api-two","venue":"binance-usdm","symbol":"BTCUSDT","side":"long","qty":"2","entry":"90000","liq_price":"70000"}\n' |
    "$CTL" positions add $S - > /dev/null 2>&1 || bad "positions add api-two"
kill -HUP "$dpid"
wait_for 'applied' "$tmp/d2.err" 100 || bad "reload not applied"
ls_json "$tmp/ls3.json"
check "$tmp/ls3.json" "after SIGHUP: the file reloaded, the API's changes replayed over it"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(p["id"]=="api-two" for p in d["positions"])' "$tmp/ls3.json" \
    && ok "after SIGHUP: this run's own change kept" || bad "api-two lost at reload"
stop
exit $fail
