#!/bin/sh
# bench/peers/run.sh - liqmon against tardis-dev and ccxt on identical frames.
#
#   sh bench/peers/run.sh            (from anywhere; runs from the repo root)
#
# Environment: BUILD (default build), PEERS_DIR (scratch, default
# $BUILD/peers: npm packages, captures, books; never committed), FRAMES
# (diffs in the mix, default 300000), TOP (levels compared per side,
# default 50), REPS (runs per figure, median reported, default 3).
#
# 1. builds bench_mix and liqmonctl, installs tardis-dev and ccxt with npm
#    into PEERS_DIR (once);
# 2. writes the mix (bench_mix --write-capture; checked against the
#    generator's model) and splits it per venue;
# 3. per venue: liqmon as a whole process (liqmonctl replay on the venue's
#    capture: reading, unescaping, adapters, books; wall time, process
#    start included), liqmon in process (bench_mix --peer-bench: the
#    frames held in memory, venue_on_frame, CPU time), tardis-dev and ccxt
#    (node bench_peer.js: the frames held in memory, JSON.parse + the
#    library's handler + its order book, CPU time);
# 4. checks every peer's final books (top TOP levels a side) against
#    liqmon's, and prints the table.  Exit 1 when a book differs.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
PEERS_DIR=${PEERS_DIR:-$BUILD/peers}
FRAMES=${FRAMES:-300000}
TOP=${TOP:-50}
REPS=${REPS:-3}
VENUES="binance-usdm bybit-linear okx-swap"

make -s BUILD="$BUILD" -j2 "$BUILD/bench/bench_mix" "$BUILD/liqmonctl" >/dev/null
mkdir -p "$PEERS_DIR"
if [ ! -d "$PEERS_DIR/node_modules/tardis-dev" ] || [ ! -d "$PEERS_DIR/node_modules/ccxt" ]; then
    (cd "$PEERS_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     npm install --no-audit --no-fund tardis-dev ccxt >/dev/null)
fi
export NODE_PATH="$ROOT/$PEERS_DIR/node_modules"
pkgv() { node -p "JSON.parse(require('fs').readFileSync('$NODE_PATH/$1/package.json','utf8')).version"; }
TV=$(pkgv tardis-dev)
CV=$(pkgv ccxt)

"$BUILD/bench/bench_mix" --write-capture "$PEERS_DIR/mix.jsonl" --frames "$FRAMES"
for v in $VENUES; do
    grep "\"venue\":\"$v\"" "$PEERS_DIR/mix.jsonl" > "$PEERS_DIR/mix-$v.jsonl"
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

OUT="$PEERS_DIR/results.jsonl"
: > "$OUT"
for v in $VENUES; do
    cap="$PEERS_DIR/mix-$v.jsonl"
    n=$(wc -l < "$cap")
    # whole process: liqmonctl replay (wall, includes start-up and output)
    secs=$(for r in $(seq "$REPS"); do
        t0=$(now)
        "$BUILD/liqmonctl" replay --instruments conf/instruments "$cap" > "$PEERS_DIR/ctl-$v.txt" 2>/dev/null
        t1=$(now)
        echo "$t0 $t1" | awk '{printf "%.6f\n", $2 - $1}'
    done | median)
    echo "{\"lib\":\"liqmonctl\",\"venue\":\"$v\",\"frames\":$n,\"wall_s\":$secs}" >> "$OUT"
    # in process (CPU time), and the final books
    for r in $(seq "$REPS"); do
        "$BUILD/bench/bench_mix" --peer-bench "$cap" --books-out "$PEERS_DIR/liqmon-books-$v.json" --top "$TOP"
    done | node -e '
        const ls = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
        const v = process.argv[1], c = ls.map((l) => l[v].cpu_s).sort((a, b) => a - b);
        const m = c[Math.floor(c.length / 2)], f = ls[0][v].frames;
        console.log(JSON.stringify({ lib: "liqmon", venue: v, frames: f, cpu_s: m,
            fps: Math.round(f / m), rejected: ls[0][v].rejected, skipped: ls[0][v].skipped }));
    ' "$v" >> "$OUT"
    for lib in tardis ccxt; do
        node bench/peers/bench_peer.js "$lib" "$v" "$cap" "$PEERS_DIR/liqmon-books-$v.json" "$REPS" >> "$OUT"
    done
done

node -e '
const ls = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const get = (lib, v) => ls.find((l) => l.lib === lib && l.venue === v);
const fmt = (x) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
let bad = 0;
console.log(`peers: tardis-dev ${process.argv[2]}, ccxt ${process.argv[3]}, node ${process.version}; frames/s, CPU time, median of ${process.argv[4]}`);
console.log("venue          frames  liqmonctl(proc,wall)  liqmon(in-proc)   tardis-dev         ccxt  liqmon/tardis  liqmon/ccxt  books (top " + process.argv[5] + ")");
for (const v of ["binance-usdm", "bybit-linear", "okx-swap"]) {
    const c = get("liqmonctl", v), l = get("liqmon", v), t = get("tardis", v), x = get("ccxt", v);
    const eq = t.sides_differ === 0 && x.sides_differ === 0 && t.sides_checked > 0 && l.rejected === 0;
    if (!eq) bad++;
    console.log(`${v.padEnd(13)} ${String(l.frames).padStart(7)}  ${fmt(c.frames / c.wall_s).padStart(20)}  ${fmt(l.fps).padStart(15)}  ${fmt(t.fps).padStart(11)}  ${fmt(x.fps).padStart(11)}  ${(l.fps / t.fps).toFixed(1).padStart(12)}x  ${(l.fps / x.fps).toFixed(1).padStart(10)}x  ${eq ? "equal" : "DIFFER: " + (t.first_difference || x.first_difference)}`);
}
process.exit(bad ? 1 : 0);
' "$OUT" "$TV" "$CV" "$REPS" "$TOP"
