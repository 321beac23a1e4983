#!/bin/sh
# The offline demo: liqmond watching four venues (Binance USD-M, Bybit,
# OKX, Hyperliquid) served by liqmon-venue on loopback over wss, with the
# example positions, while the generated market crashes.  No internet.
#
#   sh scripts/demo.sh [SECONDS]      (default 25; run `make` first)
#
# Every 2 s liqmond logs each instrument's mark, book health and the
# worst price move its cascade ladder predicts; at the end it prints the
# final ladders.  Then, from the run's store, one liquidation map per
# instrument at the bottom of the crash (its snapshot with the lowest
# reference price) goes to demo/VENUE-SYMBOL.svg (`make demo`).
set -eu
BUILD=${BUILD:-build}
secs=${1:-25}
for b in liqmond liqmon-venue liqmonctl; do
    [ -x "$BUILD/$b" ] || { echo "demo: $BUILD/$b missing: run make first" >&2; exit 1; }
done
tmp=$(mktemp -d)
vs_pid=
cleanup() {
    [ -n "$vs_pid" ] && kill "$vs_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$BUILD/liqmon-venue" --gen-cert "$tmp" > /dev/null
"$BUILD/liqmon-venue" --generate --seed 3 --port 0 --tls \
    --cert "$tmp/localhost.crt" --key "$tmp/localhost.key" \
    --crash-at 8 --crash-pct 4 --crash-secs 6 > "$tmp/venue.out" 2> "$tmp/venue.err" &
vs_pid=$!
port=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/venue.out" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.25
done
[ -n "$port" ] || { echo "demo: liqmon-venue did not start:" >&2; cat "$tmp/venue.err" >&2; exit 1; }
echo "demo: venues on wss://localhost:$port (liqmon-venue), a 4% crash from t=8s"

sed -e "s/@PORT@/$port/g" -e "s#@CA@#$tmp/localhost.crt#" -e "s#@CONF@#$PWD/conf#g" conf/demo.conf > "$tmp/liqmond.conf"
"$BUILD/liqmond" --config "$tmp/liqmond.conf" --run-for "$secs" --state-out "$tmp/state.json" \
    --store "$tmp/demo.db"
echo "demo: done ($secs s)"

# The maps: each instrument's lowest reference price of the run.
mkdir -p demo
sqlite3 -separator ' ' "$tmp/demo.db" \
    "SELECT venue, substr(instrument, length(venue) + 2),
            (SELECT s2.ts FROM snapshots s2 WHERE s2.instrument = s.instrument
               AND s2.ref IS NOT NULL AND s2.map IS NOT NULL
             ORDER BY s2.ref, s2.ts LIMIT 1)
     FROM snapshots s GROUP BY instrument ORDER BY instrument" |
while read -r venue symbol ts; do
    [ -n "$ts" ] || continue
    "$BUILD/liqmonctl" map "$venue" "$symbol" --store "$tmp/demo.db" --at "$ts" \
        --svg "demo/$venue-$symbol.svg" && echo "demo: demo/$venue-$symbol.svg"
done
