#!/bin/sh
# The offline demo (`make demo`): liqmond watching four venues (Binance
# USD-M, Bybit, OKX, Hyperliquid) served by liqmon-venue on loopback over
# wss in their real wire formats, with 2,000 demo positions (3x-100x), while
# the generated market has a flash crash.  No internet.
#
#   DEMO_SECONDS=60 sh scripts/demo.sh       (run `make` first; make demo does)
#
# What you see: the feeds connect, the crash starts, alerts appear as they
# are raised (position alerts are tallied, the rest shown in full), status
# lines every few seconds; then a post-mortem read back from the store
# (liqmonctl summary) and the commands to query what the run left in
# demo/: the store (liqmon.db), the alert log (alerts.jsonl), the
# daemon's log, the config it ran with, and one liquidation map per
# instrument at the bottom of the crash (VENUE-SYMBOL.svg).  While it
# runs: metrics on http://127.0.0.1:9464/metrics (DEMO_METRICS), the
# control API on demo/liqmond.sock.
#
# Environment: DEMO_SECONDS (60), DEMO_DIR (demo), DEMO_METRICS
# (127.0.0.1:9464; empty: off; port 0 picks one, logged), BUILD (build).
set -eu
BUILD=${BUILD:-build}
secs=${DEMO_SECONDS:-${1:-60}}
dir=${DEMO_DIR:-demo}
metrics=${DEMO_METRICS-127.0.0.1:9464}
case $secs in
    ''|*[!0-9]*) echo "demo: DEMO_SECONDS must be a whole number of seconds, not '$secs'" >&2; exit 64 ;;
esac
[ "$secs" -ge 10 ] || { echo "demo: DEMO_SECONDS must be at least 10" >&2; exit 64; }
for b in liqmond liqmon-venue liqmonctl; do
    [ -x "$BUILD/$b" ] || { echo "demo: $BUILD/$b missing: run make first" >&2; exit 1; }
done
command -v sqlite3 > /dev/null || { echo "demo: sqlite3 missing: sh scripts/install-deps.sh" >&2; exit 1; }

shown=$dir                     # as given, for the commands printed at the end
mkdir -p "$dir/tls"
dir=$(cd "$dir" && pwd)
rm -f "$dir"/liqmon.db "$dir"/liqmon.db-wal "$dir"/liqmon.db-shm "$dir"/alerts.jsonl \
      "$dir"/liqmond.log "$dir"/*.svg "$dir"/summary.txt
vs_pid=
cleanup() {
    [ -n "$vs_pid" ] && kill "$vs_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The crash: a quarter of the way in, over a quarter of the run, 6% off.
crash_at=$((secs / 4))
crash_secs=$((secs / 4))
"$BUILD/liqmon-venue" --gen-cert "$dir/tls" > /dev/null
"$BUILD/liqmon-venue" --generate --seed 3 --port 0 --tls \
    --cert "$dir/tls/localhost.crt" --key "$dir/tls/localhost.key" \
    --crash-at "$crash_at" --crash-pct 6 --crash-secs "$crash_secs" \
    --adl-at "$((crash_at + crash_secs / 2))" --adl-secs "$crash_secs" \
    > "$dir/venue.out" 2> "$dir/venue.err" &
vs_pid=$!
port=
for _ in $(seq 1 40); do
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/venue.out" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.25
done
[ -n "$port" ] || { echo "demo: liqmon-venue did not start:" >&2; cat "$dir/venue.err" >&2; exit 1; }

# The config: conf/demo.conf with this run's port, CA and outputs.
sed -e "s/@PORT@/$port/g" -e "s#@CA@#$dir/tls/localhost.crt#" -e "s#@CONF@#$PWD/conf#g" \
    -e "s#^\[alerts\]#[alerts]\nlog = $dir/alerts.jsonl#" \
    -e "s#^\[store\]#[store]\npath = $dir/liqmon.db#" conf/demo.conf > "$dir/liqmond.conf"
printf '\n[control]\nsocket = %s/liqmond.sock\n\n[metrics]\nlisten = %s\n' "$dir" "$metrics" \
    >> "$dir/liqmond.conf"

echo "demo: 4 venues on wss://localhost:$port (liqmon-venue, their real wire formats)"
echo "demo: a 6% flash crash from t=${crash_at}s over ${crash_secs}s; the run lasts ${secs}s (DEMO_SECONDS)"
[ -n "$metrics" ] && echo "demo: metrics on http://$metrics/metrics; control API on $dir/liqmond.sock"
echo

# Live: the daemon's log in full to demo/liqmond.log; on the terminal the
# same lines, except that position alerts (thousands in a crash) are
# tallied into one line per second.
filter() {
    awk '
    function flush() {
        if (np > 0) {
            printf "      ... %d position alerts (%d critical, %d liquidated)\n", np, nc, nl
            np = nc = nl = 0
        }
    }
    /alert [0-9]+: position_(near|liquidated) / {
        np++
        if ($0 ~ /critical/) nc++
        if ($0 ~ /position_liquidated/) nl++
        now = systime()
        if (now != last) { flush(); last = now }
        next
    }
    { flush(); sub(/^<[0-9]>/, "ALERT "); print; fflush() }
    END { flush() }'
}
# (The exit code goes through a file: a pipeline's is its last command's.)
{ "$BUILD/liqmond" --config "$dir/liqmond.conf" --run-for "$secs"; echo $? > "$dir/.rc"; } \
    2>&1 > /dev/null | tee "$dir/liqmond.log" | filter
rc=$(cat "$dir/.rc" 2>/dev/null || echo 1)
rm -f "$dir/.rc"
kill "$vs_pid" 2>/dev/null || true
wait "$vs_pid" 2>/dev/null || true
vs_pid=
[ "$rc" -eq 0 ] || { echo "demo: liqmond failed (see $dir/liqmond.log)" >&2; exit 1; }

# The post-mortem, from the store.
echo
echo "==== post-mortem (liqmonctl summary, from $dir/liqmon.db)"
"$BUILD/liqmonctl" summary --store "$dir/liqmon.db" | tee "$dir/summary.txt"

# The maps: each instrument at its lowest reference price of the run.
echo
echo "==== liquidation maps at the bottom of the crash"
sqlite3 -separator ' ' "$dir/liqmon.db" \
    "SELECT venue, substr(instrument, length(venue) + 2),
            (SELECT s2.ts FROM snapshots s2 WHERE s2.instrument = s.instrument
               AND s2.ref IS NOT NULL AND s2.map IS NOT NULL
             ORDER BY s2.ref, s2.ts LIMIT 1)
     FROM snapshots s GROUP BY instrument ORDER BY instrument" |
while read -r venue symbol ts; do
    [ -n "$ts" ] || continue
    "$BUILD/liqmonctl" map "$venue" "$symbol" --store "$dir/liqmon.db" --at "$ts" \
        --svg "$dir/$venue-$symbol.svg" && echo "  $dir/$venue-$symbol.svg"
done

rel=$shown
cat <<EOF

==== what it left in $rel/, and how to query it
  $BUILD/liqmonctl summary   --store $rel/liqmon.db
  $BUILD/liqmonctl alerts    --store $rel/liqmon.db --severity critical --kind cascade_risk
  $BUILD/liqmonctl timeline  --store $rel/liqmon.db --instrument binance-usdm:BTCUSDT
  $BUILD/liqmonctl snapshots --store $rel/liqmon.db --instrument okx-swap:BTC-USDT-SWAP --rows
  $BUILD/liqmonctl map binance-usdm BTCUSDT --store $rel/liqmon.db --at <time> --svg btc.svg
  $BUILD/liqmonctl stats     --store $rel/liqmon.db
  sqlite3 $rel/liqmon.db < docs/postmortem.sql      (the SQL behind a post-mortem)
  tail $rel/alerts.jsonl                            (the alert log risk desks tail)
EOF
