#!/bin/sh
# liqmonctl alerts / timeline / snapshots / stats against a store built here
# from docs/store-schema.sql and tests/fixtures/store/fixture.sql (counts and
# times are in the fixture's header); every example query of
# docs/postmortem.sql; usage errors (exit 64 and exactly one line on
# stderr), a missing store (66), files that are not a store (65); and reads
# while another process holds a write transaction open in WAL mode.
BUILD=${BUILD:-build}
CTL="$BUILD/liqmonctl"
tmp=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

for tool in sqlite3 python3; do
    if ! command -v $tool > /dev/null 2>&1; then
        bad "postmortem tests need $tool"
        exit 1
    fi
done

db="$tmp/store.db"
# The schema's version: the last step of docs/store-schema.sql.
sv=$(grep -c '^-- ---- step ' docs/store-schema.sql)
if { cat docs/store-schema.sql; echo "PRAGMA user_version = $sv;";
     cat tests/fixtures/store/fixture.sql; } | sqlite3 -bail "$db"; then
    ok "fixture store built"
else
    bad "fixture store built"
    exit 1
fi
# The default store; some checks below pass --store instead.
LIQMON_STORE="$db"
export LIQMON_STORE

# jcheck FILE EXPR: FILE is JSON Lines (every line must parse) and the
# Python expression EXPR over rows (the parsed lines) is true.  EXPR may
# span lines.
jcheck() {
    python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
' "$1" "$2"
}

# alerts_json NAME EXPR ARGS...: liqmonctl alerts --json ARGS exits 0,
# prints nothing on stderr, and EXPR holds over its lines.
alerts_json() {
    name=$1 expr=$2
    shift 2
    "$CTL" alerts --json "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && jcheck "$tmp/out" "$expr"; then
        ok "$name"
    else
        bad "$name (exit $rc)"; cat "$tmp/err"; head -5 "$tmp/out"
    fi
}

# ---- alerts ----------------------------------------------------------------

"$CTL" alerts > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l < "$tmp/out")" -eq 13 ] &&
   head -1 "$tmp/out" | grep -q '^time  *kind  *severity  *state  *subject  *message$' &&
   grep -q '^2026-11-30T12:00:20.250Z  position_liquidated  critical  firing    acct3-btc-long  *acct3-btc-long liquidated at 89950$' "$tmp/out" &&
   python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
col = lines[0].index("message")
sys.exit(0 if all(l[col - 2:col] == "  " and l[col] != " " for l in lines) else 1)
' "$tmp/out"; then
    ok "alerts table: header, 12 rows, aligned columns"
else
    bad "alerts table (exit $rc)"; cat "$tmp/out" "$tmp/err"
fi
sed -n 2p "$tmp/out" | grep -q '^2026-11-30T11:00:30.000Z  feed_down ' &&
sed -n 13p "$tmp/out" | grep -q '^2026-11-30T12:02:00.000Z  liquidation_cluster  critical  resolved' &&
    ok "alerts table: oldest first, times ISO-8601 UTC with ms" ||
    bad "alerts table order"

alerts_json "alerts --json: 12 records, the alert log's fields in order" \
    'len(rows) == 12 and all(list(r) == ["id", "ts", "kind", "subject", "venue",
     "instrument", "severity", "state", "message", "details"] for r in rows)'
alerts_json "alerts --json: ordered by ts, then run and id" \
    '[r["ts"] for r in rows] == sorted(r["ts"] for r in rows) and
     [r["id"] for r in rows] == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6, 7]'
alerts_json "alerts --json: details embedded as objects, exact" \
    'all(isinstance(r["details"], dict) for r in rows) and
     rows[7]["details"] == {"notional": 11200000, "window_ns": 60000000000,
                            "coverage": "sampled"} and
     rows[5]["details"]["reason"] == "gap \"u\" 5" and
     rows[0]["instrument"] is None and rows[6]["ts"] == 1796040020250000000'
alerts_json "alerts --kind cascade_risk" \
    'len(rows) == 3 and all(r["kind"] == "cascade_risk" for r in rows)' \
    --kind cascade_risk
alerts_json "alerts --severity critical" \
    'len(rows) == 5 and all(r["severity"] == "critical" for r in rows)' \
    --severity critical
alerts_json "alerts --state resolved" \
    'len(rows) == 3 and all(r["state"] == "resolved" for r in rows)' \
    --state resolved
alerts_json "alerts --venue okx-swap" \
    'len(rows) == 2 and all(r["venue"] == "okx-swap" for r in rows)' \
    --venue okx-swap
alerts_json "alerts --instrument binance-usdm:BTCUSDT" \
    'len(rows) == 6 and all(r["instrument"] == "binance-usdm:BTCUSDT" for r in rows)' \
    --instrument binance-usdm:BTCUSDT
alerts_json "alerts --instrument BTCUSDT (a bare symbol one venue has)" \
    'len(rows) == 6 and all(r["instrument"] == "binance-usdm:BTCUSDT" for r in rows)' \
    --instrument BTCUSDT
alerts_json "alerts --run 1" 'len(rows) == 5 and rows[-1]["kind"] == "position_near"' \
    --run 1
alerts_json "alerts --kind and --severity together" \
    'len(rows) == 1 and rows[0]["subject"] == "acct7-btc-long" and rows[0]["id"] == 6' \
    --kind position_near --severity critical
alerts_json "alerts --since/--until ISO, both ends included" \
    '[r["id"] for r in rows] == [1, 2, 3]' \
    --since 2026-11-30T12:00:00Z --until 2026-11-30T12:00:20.250Z
alerts_json "alerts --since/--until ns" \
    '[r["id"] for r in rows] == [2, 3, 4]' \
    --since 1796040020250000000 --until 1796040045000000000
alerts_json "alerts --since with a +02:00 offset" \
    '[r["id"] for r in rows] == [2, 3, 4, 5, 6, 7]' \
    --since 2026-11-30T14:00:20.250+02:00
alerts_json "alerts --since/--until with a space, no zone" \
    '[r["id"] for r in rows] == [5, 6]' \
    --since '2026-11-30 12:01:00' --until '2026-11-30 12:01:30'
alerts_json "alerts --since DATE (midnight)" 'len(rows) == 12' --since 2026-11-30
alerts_json "alerts --until DATE (midnight)" 'len(rows) == 0' --until 2026-11-30
alerts_json "alerts --since=T (one argument)" 'len(rows) == 7' \
    --since=2026-11-30T11:30:00Z

# Relative times count back from now: aim at 12:00:00Z - 30 s.
now=$(date +%s)
back=$((now - 1796040000 + 30))
if [ $back -gt 0 ]; then
    alerts_json "alerts --since -Ns (relative to now)" 'len(rows) == 7' \
        --since "-${back}s"
    alerts_json "alerts --until -Nm (relative to now)" 'len(rows) == 5' \
        --until "-$((back / 60 + 1))m"
else
    # A clock before the fixture: every relative time is before it.
    alerts_json "alerts --until -1h (relative to now)" 'len(rows) == 0' \
        --until -1h
fi

"$CTL" alerts --json --limit 2 > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && jcheck "$tmp/out" 'len(rows) == 2 and rows[1]["id"] == 2' &&
   [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q 'more match' "$tmp/err"; then
    ok "alerts --limit 2: the first two, a note that more match"
else
    bad "alerts --limit (exit $rc)"; cat "$tmp/err"
fi
"$CTL" alerts --since 2027-01-01 > "$tmp/out" 2>&1
[ $? -eq 0 ] && [ "$(cat "$tmp/out")" = "no alerts match" ] &&
    ok "alerts with nothing matching says so" || bad "alerts with nothing matching"

# ---- timeline --------------------------------------------------------------

"$CTL" timeline --instrument binance-usdm:BTCUSDT --json > "$tmp/tl" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && jcheck "$tmp/tl" '
    len(rows) == 24 and
    [r["ts"] for r in rows] == sorted(r["ts"] for r in rows) and
    [sum(r["type"] == t for r in rows) for t in ("feed", "print", "snapshot", "alert")]
        == [3, 7, 6, 8]'; then
    ok "timeline --json: four sources, 24 lines, in time order"
else
    bad "timeline --json (exit $rc)"; cat "$tmp/err"; cat "$tmp/tl"
fi
jcheck "$tmp/tl" '
    all(r.get("instrument") == "binance-usdm:BTCUSDT" or
        (r.get("instrument") is None and r["venue"] == "binance-usdm") for r in rows) and
    sum(r["type"] in ("feed", "alert") and r["instrument"] is None for r in rows) == 5' &&
    ok "timeline: the instrument's rows and its venue's connection events only" ||
    bad "timeline: rows of other instruments or venues"
# Same ts: the feed event, then the alert it caused; the snapshot before the
# alerts evaluated on it; alerts of one evaluation by id.
jcheck "$tmp/tl" '
    [(r["type"], r["id"]) for r in rows if r["ts"] == 1796036430000000000] ==
        [("feed", 1), ("alert", 1)] and
    [(r["type"], r["id"]) for r in rows if r["ts"] == 1796040020250000000] ==
        [("snapshot", 5), ("alert", 2), ("alert", 3)] and
    all(list(r)[:2] == ["type", "run_id"] and isinstance(r["details"], dict)
        for r in rows if r["type"] == "alert")' &&
    ok "timeline: ties in handling order; alerts carry type, run_id, details" ||
    bad "timeline: tie order or alert fields"
"$CTL" timeline --instrument binance-usdm:BTCUSDT > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/out")" -eq 24 ] &&
   cut -c1-24 "$tmp/out" | sort -c 2> /dev/null &&
   grep -q '^2026-11-30T11:00:30.000Z  feed      binance-usdm/ws-0 disconnected: read: connection reset$' "$tmp/out" &&
   grep -q '^2026-11-30T11:01:00.000Z  snapshot  ref 90500 (mark)  bid 90499.9  ask 90500.1  book valid  worst down 3.7x at 2% (2.74M)  up 1.75x at 2% (777K)$' "$tmp/out" &&
   grep -q '^2026-11-30T12:00:20.100Z  print     long liquidated: 64.5 @ 89950 (avg_fill), notional 5.80M, sampled$' "$tmp/out" &&
   grep -q '^2026-11-30T12:00:50.000Z  feed      binance-usdm/ws-0 rejected: parse (x3)$' "$tmp/out"; then
    ok "timeline text: one line per row, sorted by time"
else
    bad "timeline text (exit $rc)"; cat "$tmp/out" "$tmp/err"
fi
"$CTL" timeline --instrument BTCUSDT --from 2026-11-30T12:00:20Z \
    --to 2026-11-30T12:00:21Z --json > "$tmp/out" 2> "$tmp/err"
jcheck "$tmp/out" '[r["type"] for r in rows] ==
    ["print", "print", "snapshot", "alert", "alert", "print"]' &&
    ok "timeline --from/--to" || bad "timeline --from/--to"
"$CTL" timeline --instrument okx-swap:BTC-USDT-SWAP --run 2 --json > "$tmp/out" 2> "$tmp/err"
jcheck "$tmp/out" '[r["type"] for r in rows] == ["snapshot", "alert", "print", "feed"]
    and rows[0]["ts"] == rows[1]["ts"] and rows[1]["ts"] < rows[2]["ts"]' &&
    ok "timeline --run, another venue" || bad "timeline --run, another venue"

# ---- snapshots -------------------------------------------------------------

"$CTL" snapshots --instrument binance-usdm:BTCUSDT > "$tmp/out" 2> "$tmp/err"
[ $? -eq 0 ] && [ "$(wc -l < "$tmp/out")" -eq 6 ] &&
    grep -q '^2026-11-30T12:00:20.250Z  longs 149  shorts 90  ref 89950 (mid)  bid 89900  ask 90000  book INVALID  worst down 4.3x at 2% (3.33M)' "$tmp/out" &&
    ok "snapshots: one line each" || { bad "snapshots"; cat "$tmp/out" "$tmp/err"; }
"$CTL" snapshots --instrument binance-usdm:BTCUSDT --rows > "$tmp/out" 2> "$tmp/err"
if [ $? -eq 0 ] && [ "$(wc -l < "$tmp/out")" -eq 60 ] &&
   [ "$(grep -c '^    down ' "$tmp/out")" -eq 24 ] &&
   [ "$(grep -c '^    up ' "$tmp/out")" -eq 24 ] &&
   grep -q '^    down       2%         89180       6          24          20.4       1.84M         85904     5.6%      2.8  no              0         87542$' "$tmp/out"; then
    ok "snapshots --rows: each snapshot's 8 ladder rows under it"
else
    bad "snapshots --rows"; cat "$tmp/out" "$tmp/err"
fi
"$CTL" snapshots --instrument binance-usdm:BTCUSDT --rows --json > "$tmp/out" 2> "$tmp/err"
jcheck "$tmp/out" '
    [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6] and
    all(len(r["rows"]) == 8 for r in rows) and
    rows[1]["worst"]["down"] == {"shock": 0.02, "amplification": 3.7,
        "liquidated_notional": 2741607, "move_pct": 7.4} and
    rows[4]["book_valid"] is False and rows[4]["mark"] is None and
    rows[0]["rows"][0]["amplification"] is None and rows[0]["rows"][0]["vwap"] is None and
    rows[0]["rows"][2]["liquidated_notional"] == 1837836' &&
    ok "snapshots --rows --json" || { bad "snapshots --rows --json"; cat "$tmp/out"; }
"$CTL" snapshots --instrument ETHUSDT --rows --json > "$tmp/out" 2> "$tmp/err"
jcheck "$tmp/out" 'len(rows) == 1 and rows[0]["ladder_valid"] is False and
    rows[0]["rows"] == [] and rows[0]["worst"] == {"down": None, "up": None}' &&
    ok "snapshots: an invalid ladder has no rows" || bad "snapshots: invalid ladder"

# ---- stats -----------------------------------------------------------------

"$CTL" stats --json > "$tmp/out" 2> "$tmp/err"
rc=$?
counts=$(for t in runs alerts snapshots snapshot_rows liq_prints feed_events positions; do
             printf '"%s": %s, ' $t "$(sqlite3 "$db" "SELECT count(*) FROM $t")"
         done)
if [ $rc -eq 0 ] && jcheck "$tmp/out" "
    {t: v['rows'] for t, v in rows[0]['tables'].items()} == {$counts} and
    {$counts} == {'runs': 2, 'alerts': 12, 'snapshots': 8, 'snapshot_rows': 56,
                  'liq_prints': 8, 'feed_events': 6, 'positions': 5} and
    rows[0]['schema_version'] == $sv and rows[0]['file_bytes'] == $(wc -c < "$db") and
    rows[0]['tables']['alerts']['min_ts'] == 1796036430000000000 and
    rows[0]['tables']['alerts']['max_ts'] == 1796040120000000000 and
    rows[0]['tables']['snapshot_rows']['min_ts'] is None and
    [(r['id'], r['mode'], r['state']) for r in rows[0]['runs']] ==
        [(1, 'replay', 'stopped'), (2, 'live', 'running/crashed')]"; then
    ok "stats --json: rows per table as inserted, spans, size, runs"
else
    bad "stats --json (exit $rc)"; cat "$tmp/out" "$tmp/err"
fi
"$CTL" stats > "$tmp/out" 2> "$tmp/err"
if [ $? -eq 0 ] && grep -q "^schema version  $sv\$" "$tmp/out" &&
   grep -q '^snapshot_rows  *56  -  *-$' "$tmp/out" &&
   grep -q '^alerts  *12  2026-11-30T11:00:30.000Z  2026-11-30T12:02:00.000Z$' "$tmp/out" &&
   grep -q '^     2  live    0.4.1         2026-11-30T12:00:00.000Z  running/crashed$' "$tmp/out"; then
    ok "stats text"
else
    bad "stats text"; cat "$tmp/out" "$tmp/err"
fi

# ---- docs/postmortem.sql -----------------------------------------------------

awk -v dir="$tmp" '
    /^-- query: / { n++; f = sprintf("%s/query%d.sql", dir, n); print $3 > (dir "/names") }
    n > 0 { print > f }' docs/postmortem.sql
nq=0
for f in "$tmp"/query*.sql; do
    [ -f "$f" ] || continue
    nq=$((nq + 1))
    name=$(sed -n "${nq}p" "$tmp/names")
    sqlite3 -bail -readonly "$db" < "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ -s "$tmp/out" ]; then
        ok "postmortem.sql $name: runs, returns $(wc -l < "$tmp/out") rows"
    else
        bad "postmortem.sql $name (exit $rc)"; cat "$tmp/err"
    fi
done
[ $nq -eq 4 ] && ok "postmortem.sql has the 4 example queries" ||
    bad "postmortem.sql: $nq queries, expected 4"

# ---- usage errors: 64, one line on stderr, nothing on stdout -----------------

while IFS= read -r line; do
    eval "set -- $line"
    "$CTL" "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -eq 64 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
       grep -q "^liqmonctl $1: " "$tmp/err"; then
        ok "usage error exits 64, one line: $line"
    else
        bad "usage error: $line (exit $rc)"; cat "$tmp/err"
    fi
done <<'EOF'
alerts --frobnicate
alerts --since
alerts --since --json
alerts --since yesterday
alerts --since 2026-02-30
alerts --since 2026-11-30T24:00:00Z
alerts --until 1e9
alerts --since 2026-11-30T12:00:00Z --until 2026-11-30T11:00:00Z
alerts --kind position_far
alerts --severity info
alerts --state open
alerts --limit 0
alerts --run first
alerts --json=yes
alerts stray
timeline
timeline --instrument binance-usdm:SOLUSDT
timeline --instrument BTCUSDT --from -5x
timeline --instrument BTCUSDT --since 2026-11-30
snapshots --instrument NOPE --rows
snapshots --instrument BTCUSDT --from 2026-11-30T13:00:00Z --to 2026-11-30T12:00:00Z
stats --rows
EOF
"$CTL" alerts --since yesterday 2>&1 | grep -qx "liqmonctl alerts: --since: not a time: 'yesterday' (ISO-8601 like 2026-11-30T12:00:00Z, or -15m, -2h)" &&
    ok "a bad time says what and where" || bad "a bad time's message"

for c in alerts timeline snapshots stats; do
    "$CTL" $c --help > "$tmp/out" 2>&1
    [ $? -eq 0 ] && grep -q "^usage: liqmonctl $c" "$tmp/out" && grep -q -- '--store DB' "$tmp/out" &&
        ok "$c --help" || bad "$c --help"
done
"$CTL" --help | grep -q 'overrides \$LIQMON_STORE' && ok "liqmonctl --help lists the store commands" ||
    bad "liqmonctl --help lists the store commands"

# ---- stores that cannot be read ------------------------------------------------

LIQMON_STORE="$tmp/absent.db" "$CTL" alerts --store "$db" > /dev/null 2>&1 &&
    ok "--store overrides LIQMON_STORE" || bad "--store overrides LIQMON_STORE"
for c in alerts stats "timeline --instrument BTCUSDT"; do
    "$CTL" $c --store "$tmp/absent.db" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc -eq 66 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "$tmp/absent.db" "$tmp/err" &&
        ok "$c: a missing store exits 66 naming it" || { bad "$c: missing store (exit $rc)"; cat "$tmp/err"; }
done
LIQMON_STORE="$tmp/absent.db" "$CTL" stats > /dev/null 2> "$tmp/err"
[ $? -eq 66 ] && grep -q "$tmp/absent.db" "$tmp/err" && ok "LIQMON_STORE names the default store" ||
    bad "LIQMON_STORE names the default store"

sqlite3 "$tmp/other.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1);'
sqlite3 "$tmp/other2.db" 'CREATE TABLE runs (x); PRAGMA user_version = 2;'
echo "id,ts" > "$tmp/text.db"
cp "$db" "$tmp/newer.db" && sqlite3 "$tmp/newer.db" "PRAGMA user_version = $((sv + 1));"
for f in other.db other2.db text.db newer.db; do
    "$CTL" stats --store "$tmp/$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc -eq 65 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
        ok "$f: not a store this reads, exits 65 with one line" ||
        { bad "$f (exit $rc)"; cat "$tmp/err"; }
done
grep -q 'newer' "$tmp/err" && ok "a newer schema says so" || bad "a newer schema says so"

# ---- a version 1 store (step 1 only): step 2's columns read as NULL / 1 ------

v1="$tmp/v1.db"
{ sed '/---- step 2/,$d' docs/store-schema.sql
  cat <<'EOF'
PRAGMA user_version = 1;
INSERT INTO snapshots (id, run_id, ts, venue, instrument, ref, ref_is_mark, best_bid,
    best_ask, book_valid, long_count, long_qty, short_count, short_qty, ladder_valid)
    VALUES (1, 1, 1796040000000000000, 'hyperliquid', 'hyperliquid:BTC', 92000, 1,
            91999, 92001, 1, 3, 1.5, 2, 1, 0);
INSERT INTO feed_events (id, run_id, ts, venue, conn, instrument, kind, reason)
    VALUES (1, 1, 1796040001000000000, 'hyperliquid', 'ws-0', NULL, 'stale', NULL);
EOF
} | sqlite3 -bail "$v1"
"$CTL" timeline --store "$v1" --instrument BTC --json > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && jcheck "$tmp/out" '
    [r["type"] for r in rows] == ["snapshot", "feed"] and
    rows[0]["open_interest"] is None and "bid_reach_pct" in rows[0] and
    rows[1]["count"] == 1'; then
    ok "a version 1 store reads, step 2 columns as null / 1"
else
    bad "a version 1 store (exit $rc)"; cat "$tmp/err" "$tmp/out"
fi

# ---- while the daemon writes (WAL, a write transaction open) -----------------

wal="$tmp/wal.db"
cp "$db" "$wal"
{
    printf "PRAGMA journal_mode = WAL;\nBEGIN IMMEDIATE;\n"
    printf "INSERT INTO alerts VALUES (2, 8, 1796040130000000000, 'store_lag', 'store', 'binance-usdm', NULL, 'warning', 'firing', 'store queue 90%% full', '{\"depth\":59000}');\n"
    printf "SELECT 'ready';\n"
    sleep 6
    printf "COMMIT;\n"
} | sqlite3 "$wal" > "$tmp/writer" 2>&1 &
wpid=$!
i=0
while ! grep -q ready "$tmp/writer" 2> /dev/null && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
if grep -q '^wal$' "$tmp/writer" && grep -q ready "$tmp/writer"; then
    "$CTL" alerts --store "$wal" --json > "$tmp/out" 2> "$tmp/err"
    rc=$?
    "$CTL" timeline --store "$wal" --instrument BTCUSDT > /dev/null 2>> "$tmp/err"
    rc2=$?
    "$CTL" stats --store "$wal" > /dev/null 2>> "$tmp/err"
    rc3=$?
    if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ ! -s "$tmp/err" ] &&
       jcheck "$tmp/out" 'len(rows) == 12' && kill -0 "$wpid" 2> /dev/null; then
        ok "reads while a WAL writer holds a transaction open (without waiting for it)"
    else
        bad "reads under a WAL writer (exit $rc $rc2 $rc3)"; cat "$tmp/err"
    fi
    wait "$wpid"
    wpid=
    alerts_json "a committed write is seen; a kind the store holds is accepted" \
        'len(rows) == 1 and rows[0]["kind"] == "store_lag" and rows[0]["details"] == {"depth": 59000}' \
        --store "$wal" --kind store_lag
else
    bad "the WAL writer did not start"; cat "$tmp/writer"
fi

exit $fail
