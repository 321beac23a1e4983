#!/bin/sh
# SIGHUP reload, live against liqmon-venue over wss:
# - a good config is applied without dropping the connections whose
#   settings did not change: a symbol added to Bybit gives Bybit a new
#   connection and a valid book for it, Binance/OKX/Hyperliquid keep theirs;
#   a new alert threshold applies at once;
# - a broken config, then a broken positions file: refused whole, the old
#   ones stay, an alert (config_rejected) and a log line say why, and the
#   daemon carries on;
# - liqmond -t agrees with what a reload refuses.
# The venue and daemon setup: tests/scripts/lib/live.sh.
. tests/scripts/lib/live.sh
live_init reload
live_venue --seed 9
cp -r conf/instruments "$tmp/instruments"
cp conf/examples/positions-demo.csv "$tmp/positions.csv"
# conf/demo.conf with Bybit watching BTCUSDT only
live_conf "$tmp/full.conf" "s#^instruments_dir = .*#instruments_dir = $tmp/instruments#" \
    "s#^positions = .*#positions = $tmp/positions.csv\npositions_min_loaded = 0.5#"
awk '/^\[venue bybit-linear\]/ { b = 1 } b && /^symbols/ { print "symbols = BTCUSDT"; b = 0; next } { print }' \
    "$tmp/full.conf" > "$tmp/d.conf"
cp "$tmp/d.conf" "$tmp/d.conf.orig"

live_daemon "$tmp/d.conf" --alert-log "$tmp/a.jsonl" --state-out "$tmp/state.json"
wait_for 'bybit-linear: public connected' "$tmp/d.err" || bad "bybit did not connect"
wait_for 'okx-swap: public connected' "$tmp/d.err"
sleep 1
n_bn=$(grep -c 'binance-usdm: public connected' "$tmp/d.err")
# the control API on the daemon's loop (Unix socket, mode 0660)
# api PATH: tests/scripts/lib/live.sh
[ "$(stat -c %a "$tmp/ctl.sock" 2>/dev/null)" = "660" ] && ok "control socket mode 0660" || bad "control socket mode $(stat -c %a "$tmp/ctl.sock" 2>&1)"
api /v1/status > "$tmp/st.out"
grep -q '^HTTP/1.1 200' "$tmp/st.out" && grep -q '"uptime_s"' "$tmp/st.out" \
    && ok "GET /v1/status through the daemon" || { bad "GET /v1/status"; head -3 "$tmp/st.out"; }
api /v1/cascade/bybit-linear/BTCUSDT | grep -q '"rows":\[{' && ok "GET /v1/cascade: the ladder's rows" \
    || bad "GET /v1/cascade"
api /v1/nope | grep -q '^HTTP/1.1 404' && ok "unknown path: 404" || bad "unknown path"
n_by=$(grep -c 'bybit-linear: public connected' "$tmp/d.err")

# ---- a good reload: Bybit gains ETHUSDT, the amplification threshold moves
sed -e 's/^\[alerts\]$/[alerts]\namp = 1.5/' "$tmp/full.conf" > "$tmp/d.conf"
"$D" -t -c "$tmp/d.conf" > /dev/null 2>&1 \
    && ok "-t accepts the new config" || bad "-t refuses the new config: $("$D" -t -c "$tmp/d.conf" 2>&1)"
kill -HUP "$dpid"
wait_for 'reload: .* applied' "$tmp/d.err" && ok "good config applied" \
    || { bad "good config not applied"; grep reload "$tmp/d.err" | tail -5; }
wait_for 'bybit-linear: public connected' "$tmp/d.err" 2>/dev/null
i=0
while [ $i -lt 100 ] && [ "$(grep -c 'bybit-linear: public connected' "$tmp/d.err")" -le "$n_by" ]; do
    sleep 0.1; i=$((i + 1))
done
[ "$(grep -c 'bybit-linear: public connected' "$tmp/d.err")" -gt "$n_by" ] \
    && ok "Bybit (changed) reconnected with the new symbol" || bad "Bybit did not reconnect"
sleep 2
[ "$(grep -c 'binance-usdm: public connected' "$tmp/d.err")" -eq "$n_bn" ] \
    && ! grep -q 'binance-usdm: .*disconnected' "$tmp/d.err" \
    && ok "Binance (unchanged) kept its connection" || bad "Binance was reconnected"
kill -0 "$dpid" 2>/dev/null && ok "daemon up after the good reload" || bad "daemon died"
api /v1/instruments | grep -q '"bybit-linear:ETHUSDT"' && ok "the API sees the reloaded market" \
    || bad "the API does not list bybit-linear:ETHUSDT"

# ---- a broken config: refused whole, the old one stays, an alert says why
sed -i 's/^status_interval = 0$/status_interval = 0\nstale_after = 0s/' "$tmp/d.conf"
"$D" -t -c "$tmp/d.conf" > /dev/null 2> "$tmp/t.err"
rc=$?
[ $rc -eq 78 ] && grep -q 'stale_after' "$tmp/t.err" && ok "-t refuses the broken config (78)" \
    || bad "-t on the broken config: exit $rc"
kill -HUP "$dpid"
wait_for 'reload refused' "$tmp/d.err" && ok "broken config refused (log line)" \
    || bad "no log line for the refused reload"
wait_for '"kind":"config_rejected"' "$tmp/a.jsonl" \
    && grep '"kind":"config_rejected"' "$tmp/a.jsonl" | grep -q 'stale_after' \
    && ok "config_rejected alert names the problem" || bad "no config_rejected alert"
kill -0 "$dpid" 2>/dev/null && ok "daemon up after the refused reload" || bad "daemon died"

# ---- a broken positions file (header only): refused, the old positions stay
sed -e 's/^\[alerts\]$/[alerts]\namp = 1.5/' "$tmp/full.conf" > "$tmp/d.conf"
head -n 1 conf/examples/positions-demo.csv > "$tmp/positions.csv"
kill -HUP "$dpid"
i=0
while [ $i -lt 300 ] && [ "$(grep -c 'reload refused' "$tmp/d.err")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(grep -c 'reload refused' "$tmp/d.err")" -ge 2 ] && grep 'reload refused' "$tmp/d.err" | tail -1 | grep -q 'positions.csv' \
    && ok "empty positions file refused" || bad "empty positions file not refused"
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
[ $rc -eq 0 ] && ok "SIGTERM after reloads: exit 0" || bad "exit $rc"
python3 - "$tmp/state.json" <<'EOF' && ok "state: Bybit ETHUSDT watched and valid; positions kept" || bad "state after reloads"
import json, sys
st = json.load(open(sys.argv[1]))
ins = st["instruments"]
assert "bybit-linear:ETHUSDT" in ins, list(ins)
assert ins["bybit-linear:ETHUSDT"]["book_valid"], ins["bybit-linear:ETHUSDT"]
pos = sum(v["positions"]["long"] + v["positions"]["short"] for v in ins.values())
assert pos > 1000, pos          # the demo positions, not the empty file's
EOF
exit $fail
