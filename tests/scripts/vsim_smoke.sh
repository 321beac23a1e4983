#!/bin/sh
# vsim_smoke.sh - liqmon-venue (src/vsim/): every venue path answers a
# subscription with frames of the venue's shape; REST, /control, /state,
# /stats, wss and --play work; the server exits cleanly.  The client is
# liqmon-venue's own --probe mode (no python, no curl needed).
# Prints "ok - ..." / "not ok - ..."; exits non-zero on a failure.
BUILD=${BUILD:-build}
V=$BUILD/liqmon-venue
FIX=tests/fixtures/vsim
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vsim_smoke.XXXXXX") || exit 1
pid=
pid2=
fail=0

cleanup() {
    for p in $pid $pid2; do
        kill "$p" 2>/dev/null
    done
    for p in $pid $pid2; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - vsim: $*"; }
notok() { echo "not ok - vsim: $*"; fail=1; }

if [ ! -x "$V" ]; then
    echo "not ok - vsim: $V not built"
    exit 1
fi

# start_server OUTFILE ARGS...: start in the background, set $port
start_server() {
    out=$1
    shift
    : >"$out"
    "$V" "$@" >"$out" 2>"$out.err" &
    last_pid=$!
    port=
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n 's/^liqmon-venue: listening on 127\.0\.0\.1:\([0-9][0-9]*\) (wss*)$/\1/p' "$out")
        [ -n "$port" ] && return 0
        kill -0 "$last_pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# probe NAME PATH [probe options]: ws frames into $tmp/NAME
probe() {
    name=$1
    path=$2
    shift 2
    "$V" --probe "ws://127.0.0.1:$port$path" --max-print 100000 "$@" \
        >"$tmp/$name" 2>"$tmp/$name.err"
}

get() {
    "$V" --probe "http://127.0.0.1:$port$1" --timeout 5 2>/dev/null
}

# check NAME LINE_REGEX DESCRIPTION: some line of $tmp/NAME matches
check() {
    if grep -q "$2" "$tmp/$1"; then ok "$3"; else notok "$3"; sed 's/^/#   /' "$tmp/$1" | head -5; fi
}

# wait_clients VENUE N: until /stats counts N ws clients of VENUE
wait_clients() {
    i=0
    while [ $i -lt 50 ]; do
        get /stats | grep -q "\"$1\":{\"clients\":$2," && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

if start_server "$tmp/out" --generate --port 0 --seed 7 \
        --crash-at 3 --crash-pct 6 --crash-secs 3 --okx-checksum crc; then
    pid=$last_pid
    ok "server listening on port $port"
else
    pid=$last_pid
    notok "server did not print its port"
    cat "$tmp/out.err"
    exit 1
fi

# ---- liquidation prints during the crash (at 3 s): listen from now ------
probe bn_liq "/market/stream?streams=btcusdt@forceOrder" --count 1 --timeout 12 &
l1=$!
probe by_liq "/v5/public/linear" --count 2 --timeout 12 \
    --send '{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}' &
l2=$!
probe okx_liq "/ws/v5/public" --count 2 --timeout 12 \
    --send '{"op":"subscribe","args":[{"channel":"liquidation-orders","instType":"SWAP"}]}' &
l3=$!

# ---- Binance USD-M -------------------------------------------------
probe bn_depth "/public/stream?streams=btcusdt@depth@100ms" --count 3 --timeout 5
check bn_depth '^{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":[0-9]*,"T":[0-9]*,"s":"BTCUSDT","U":[0-9]*,"u":[0-9]*,"pu":[0-9]*,"b":\[' \
    "binance /public depth diff frames"
probe bn_mark "/market/stream?streams=btcusdt@markPrice@1s" --count 1 --timeout 5
check bn_mark '^{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":[0-9]*,"s":"BTCUSDT","p":"[0-9.]*","i":"[0-9.]*","P":"[0-9.]*","r":"[-0-9.]*","T":[0-9]*}}$' \
    "binance /market markPrice frames"
if probe bn_wrong "/market/stream?streams=btcusdt@depth@100ms" --count 1 --timeout 1; then
    notok "binance depth must not arrive on the /market route"
else
    ok "binance depth is not served on the /market route"
fi
get "/fapi/v1/depth?symbol=BTCUSDT&limit=1000" >"$tmp/bn_rest"
check bn_rest '^{"lastUpdateId":[0-9]*,"E":[0-9]*,"T":[0-9]*,"bids":\[\["[0-9.]*","[0-9.]*"\]' \
    "binance REST depth snapshot"

# ---- Bybit v5 linear -----------------------------------------------
probe by "/v5/public/linear" --count 5 --timeout 5 \
    --send '{"op":"subscribe","args":["orderbook.50.BTCUSDT","tickers.BTCUSDT"]}' \
    --send '{"op":"ping"}'
check by '^{"success":true,"ret_msg":"","conn_id":"[^"]*","op":"subscribe"}$' "bybit subscribe reply"
check by '^{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":[0-9]*,"data":{"s":"BTCUSDT","b":\[.*"u":[0-9]*,"seq":[0-9]*},"cts":[0-9]*}$' \
    "bybit orderbook snapshot"
check by '^{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT",.*"markPrice":"[0-9.]*"' \
    "bybit tickers snapshot"
check by '^{"success":true,"ret_msg":"pong","conn_id":"[^"]*","op":"ping"}$' "bybit pong"
check by '^{"topic":"orderbook.50.BTCUSDT","type":"delta"' "bybit orderbook deltas"

# ---- OKX v5 --------------------------------------------------------
probe okx "/ws/v5/public" --count 5 --timeout 5 --send ping \
    --send '{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"},{"channel":"mark-price","instId":"BTC-USDT-SWAP"}]}'
check okx '^pong$' "okx text ping -> pong"
check okx '^{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"connId":"[^"]*"}$' \
    "okx subscribe reply"
check okx '^{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"snapshot","data":\[{"asks":\[\["[0-9.]*","[0-9.]*","0","[0-9]*"\].*"checksum":-*[0-9]*,"prevSeqId":-1,"seqId":[0-9]*}\]}$' \
    "okx books snapshot"
check okx '^{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":\[{"instType":"SWAP","instId":"BTC-USDT-SWAP","markPx":"[0-9.]*","ts":"[0-9]*"}\]}$' \
    "okx mark-price"
get "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5" >"$tmp/okx_rest"
check okx_rest '^{"code":"0","msg":"","data":\[{"asks":\[\[' "okx REST books"

# ---- Hyperliquid ---------------------------------------------------
probe hl "/ws" --count 6 --timeout 5 \
    --send '{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}' \
    --send '{"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":"BTC"}}' \
    --send '{"method":"ping"}'
check hl '^{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"' \
    "hyperliquid subscriptionResponse"
check hl '^{"channel":"l2Book","data":{"coin":"BTC","time":[0-9]*,"levels":\[\[{"px":"[0-9.]*","sz":"[0-9.]*","n":[0-9]*}' \
    "hyperliquid l2Book"
check hl '^{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{.*"markPx":"[0-9.]*"' \
    "hyperliquid activeAssetCtx"
check hl '^{"channel":"pong"}$' "hyperliquid pong"

wait $l1 $l2 $l3
check bn_liq '^{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":[0-9]*,"o":{"s":"BTCUSDT","S":"[A-Z]*","o":"LIMIT","f":"IOC","q":"[0-9.]*","p":"[0-9.]*","ap":"[0-9.]*","X":"FILLED"' \
    "binance forceOrder prints"
check by_liq '^{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":[0-9]*,"data":\[{"T":[0-9]*,"s":"BTCUSDT","S":"[A-Za-z]*","v":"[0-9.]*","p":"[0-9.]*"}' \
    "bybit allLiquidation prints"
check okx_liq '^{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":\[{"details":\[{"bkLoss":"0","bkPx":"[0-9.]*","ccy":"","posSide":"[a-z]*","side":"[a-z]*","sz":"[0-9.]*"' \
    "okx liquidation-orders prints"

# ---- misbehaviour on command ---------------------------------------
probe by_skip "/v5/public/linear" --count 12 --timeout 5 \
    --send '{"op":"subscribe","args":["orderbook.50.ETHUSDT"]}' &
p1=$!
wait_clients bybit-linear 1
sleep 0.3
get "/control?action=skip-seq&venue=bybit-linear&symbol=ETHUSDT" >"$tmp/ctl"
wait $p1
if sed -n 's/.*"type":"delta".*"u":\([0-9]*\),"seq".*/\1/p' "$tmp/by_skip" |
    awk 'NR > 1 && $1 != prev + 1 { gap++ } { prev = $1 } END { exit gap == 1 ? 0 : 1 }'; then
    ok "skip-seq: one bybit sequence number skipped"
else
    notok "skip-seq: expected exactly one gap in bybit u"
    cat "$tmp/ctl"
fi

probe hl_junk "/ws" --count 2 --timeout 5 &
p1=$!
wait_clients hyperliquid 1
get "/control?action=garbage&venue=hyperliquid" >/dev/null
wait $p1
check hl_junk '^this is not JSON' "garbage: a non-JSON frame"
check hl_junk '^{"channel":"vsimUnknown"' "garbage: a JSON frame of unknown type"

probe hl_big "/ws" --count 1 --timeout 5 --max-print 20 &
p1=$!
wait_clients hyperliquid 1
get "/control?action=oversize&venue=hyperliquid" >/dev/null
wait $p1
check hl_big '(5242880 bytes)$' "oversize: one 5 MiB frame"

get "/control?action=stall&venue=hyperliquid" >/dev/null
probe hl_stall "/ws" --count 1 --timeout 4 --send '{"method":"ping"}' &
p1=$!
wait_clients hyperliquid 1
sleep 0.5
if [ -s "$tmp/hl_stall" ]; then
    notok "stall: a frame arrived while stalled"
else
    ok "stall: nothing sent while stalled"
fi
get "/control?action=resume&venue=hyperliquid" >/dev/null
wait $p1
check hl_stall '^{"channel":"pong"}$' "resume: queued frames delivered"

probe okx_drop "/ws/v5/public" --count 5 --timeout 5 &
p1=$!
wait_clients okx-swap 1
get "/control?action=drop&venue=okx-swap" >/dev/null
if wait $p1; then
    notok "drop: connection should have been closed"
else
    grep -q "closed by the server" "$tmp/okx_drop.err" &&
        ok "drop: venue connections closed" ||
        notok "drop: $(cat "$tmp/okx_drop.err")"
fi

get "/state?venue=okx-swap&symbol=BTC-USDT-SWAP" >"$tmp/state"
check state '^{"venue":"okx-swap","symbol":"BTC-USDT-SWAP","units":"contracts","seq":[0-9]*,.*"bids":\[\["' \
    "/state book in venue units"
get "/stats" >"$tmp/stats"
check stats '"venues":{"binance-usdm":{"clients":' "/stats"
if probe nope "/no/such/path" --count 1 --timeout 2; then
    notok "unknown ws path accepted"
else
    ok "unknown ws path refused"
fi

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
    notok "SIGTERM: still running after 5 s"
else
    wait "$pid"
    rc=$?
    pid=
    [ "$rc" -eq 0 ] && ok "SIGTERM: clean exit" || notok "SIGTERM: exit status $rc"
fi

# ---- transport -----------------------------------------------------
"$V" --generate --bind 0.0.0.0 --port 0 >/dev/null 2>"$tmp/bind.err"
rc=$?
if [ "$rc" -eq 0 ]; then
    notok "non-loopback bind without --allow-remote"
else
    [ "$rc" -eq 69 ] && grep -q "not a loopback" "$tmp/bind.err" && ok "non-loopback bind refused (69)" ||
        notok "non-loopback bind (exit $rc): $(cat "$tmp/bind.err")"
fi
# Bad options: 64 and one line (tests/scripts/cli_conventions.sh has the rest).
"$V" --port 99999 >/dev/null 2>"$tmp/opt.err"
rc=$?
[ "$rc" -eq 64 ] && [ "$(cat "$tmp/opt.err")" = "liqmon-venue: --port: must be 0..65535 (got '99999')" ] &&
    ok "--port 99999: 64, said so" || notok "--port 99999 (exit $rc): $(cat "$tmp/opt.err")"

if "$V" --gen-cert "$tmp/cert" >/dev/null 2>&1 &&
   start_server "$tmp/out2" --generate --port 0 --tls \
       --cert "$tmp/cert/localhost.crt" --key "$tmp/cert/localhost.key"; then
    pid2=$last_pid
    "$V" --probe "wss://localhost:$port/ws" --insecure --count 1 --timeout 5 \
        --send '{"method":"ping"}' >"$tmp/tls" 2>&1
    check tls '^{"channel":"pong"}$' "wss with a --gen-cert certificate"
    kill -TERM "$pid2"
    wait "$pid2"
    pid2=
else
    pid2=$last_pid
    notok "wss server did not start"
fi

# ---- --play --------------------------------------------------------
if start_server "$tmp/out3" --play "$FIX/mini-capture.jsonl" --port 0 \
        --wait-clients 1 --speed 0 --linger 1; then
    pid2=$last_pid
    probe play "/v5/public/linear" --count 2 --timeout 5
    check play '^{"topic":"orderbook.50.BTCUSDT","type":"snapshot"' "play: captured bybit frames replayed"
    if grep -q '"op":"subscribe"' "$tmp/play"; then
        notok "play: captured acks must not be replayed"
    else
        ok "play: captured acks skipped"
    fi
    get "/state?venue=bybit-linear&symbol=BTCUSDT" >"$tmp/play_state"
    check play_state '"seq":18521289,.*"bids":\[\["16493.00","0.100"\]\],"asks":\[\["16611.00","0.129"\],\["16612.00","0.213"\]\]' \
        "play: /state is the book as played"
    i=0
    while kill -0 "$pid2" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid2" 2>/dev/null; then
        notok "play: still running after the capture ended"
    else
        wait "$pid2"
        rc=$?
        pid2=
        [ "$rc" -eq 0 ] && ok "play: exits when the capture is sent" ||
            notok "play: exit status $rc"
    fi
else
    pid2=$last_pid
    notok "play server did not start"
fi

exit $fail
