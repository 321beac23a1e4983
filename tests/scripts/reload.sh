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
BUILD=${BUILD:-build}
D=$BUILD/liqmond
V=$BUILD/liqmon-venue
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reload.XXXXXX") || exit 1
vpid=
dpid=
fail=0
ok() { echo "ok - reload: $1"; }
bad() { echo "not ok - reload: $1"; fail=1; }

cleanup() {
    for p in $dpid $vpid; do kill -9 "$p" 2>/dev/null; done
    for p in $dpid $vpid; do wait "$p" 2>/dev/null; done
    [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$V" --gen-cert "$tmp" > /dev/null || { bad "gen-cert"; exit 1; }
"$V" --generate --seed 9 --port 0 --tls --cert "$tmp/localhost.crt" \
    --key "$tmp/localhost.key" > "$tmp/v.out" 2> "$tmp/v.err" &
vpid=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/v.out")
    sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || { bad "liqmon-venue did not start"; exit 1; }
cp -r conf/instruments "$tmp/instruments"
cp conf/examples/positions-demo.csv "$tmp/positions.csv"
# conf/demo.conf with Bybit watching BTCUSDT only
sed -e "s/@PORT@/$port/g" -e "s#@CA@#$tmp/localhost.crt#" -e "s#@CONF@#$PWD/conf#g" \
    -e "s#^instruments_dir = .*#instruments_dir = $tmp/instruments#" \
    -e "s#^positions = .*#positions = $tmp/positions.csv\npositions_min_loaded = 0.5#" \
    -e 's/^status_interval = .*/status_interval = 0/' conf/demo.conf > "$tmp/full.conf"
printf '[control]\nsocket = %s/ctl.sock\n' "$tmp" >> "$tmp/full.conf"
awk '/^\[venue bybit-linear\]/ { b = 1 } b && /^symbols/ { print "symbols = BTCUSDT"; b = 0; next } { print }' \
    "$tmp/full.conf" > "$tmp/d.conf"
cp "$tmp/d.conf" "$tmp/d.conf.orig"

"$D" -c "$tmp/d.conf" --alert-log "$tmp/a.jsonl" --state-out "$tmp/state.json" \
    > "$tmp/d.out" 2> "$tmp/d.err" &
dpid=$!
wait_for() {   # wait_for PATTERN FILE [tenths]
    i=0
    while [ $i -lt "${3:-100}" ]; do
        grep -q "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
wait_for 'bybit-linear: public connected' "$tmp/d.err" || bad "bybit did not connect"
wait_for 'okx-swap: public connected' "$tmp/d.err"
sleep 1
n_bn=$(grep -c 'binance-usdm: public connected' "$tmp/d.err")
# the control API on the daemon's loop (Unix socket, mode 0660)
api() {   # api PATH -> status line and body
    python3 - "$tmp/ctl.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
print(body.decode())
EOF
}
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
