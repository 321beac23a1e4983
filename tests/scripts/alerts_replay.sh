#!/bin/sh
# liqmond --replay with the alert log and the store (issue: alerts and the
# SQLite store): the same capture gives byte-identical alert logs; every
# line has exactly the contract's fields in its order; the store holds
# exactly the log's records, the snapshots and the run; a config's venue
# settings reach the replay; SIGHUP reopens the alert log.
BUILD=${BUILD:-build}
D="$BUILD/liqmond"
CAP=tests/fixtures/captures/vsim-4venues.jsonl.gz
POS=conf/examples/positions-demo.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

replay() {   # replay OUT_PREFIX [extra args]
    p=$1; shift
    "$D" --replay "$CAP" --instruments conf/instruments --positions "$POS" \
        --alert-log "$tmp/$p.jsonl" --store "$tmp/$p.db" --json "$@" \
        > "$tmp/$p.out" 2> "$tmp/$p.err"
}

replay a; rc=$?
[ $rc -eq 0 ] && ok "replay with alert log and store exits 0" || { bad "replay exits $rc"; tail -5 "$tmp/a.err"; }
n=$(wc -l < "$tmp/a.jsonl")
[ "$n" -gt 100 ] && ok "alerts raised on the capture ($n)" || bad "only $n alerts"
replay b
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" && ok "two replays: byte-identical alert logs" \
    || bad "alert logs differ between two replays"

# Every record: exactly the contract's fields, in its order; ids 1..n;
# ts never goes back; one human line per record on stderr with its
# syslog priority.
python3 - "$tmp/a.jsonl" "$tmp/a.err" <<'EOF' && ok "records: fields, order, ids, clock, human lines" || bad "records"
import json, sys
want = ["id", "ts", "kind", "subject", "venue", "instrument", "severity",
        "state", "message", "details"]
kinds = {"position_near", "position_liquidated", "cascade_risk",
         "book_invalid", "feed_down", "liquidation_cluster"}
last = 0
recs = [json.loads(l) for l in open(sys.argv[1])]
for i, r in enumerate(recs, 1):
    assert list(r.keys()) == want, r.keys()
    assert r["id"] == i, (r["id"], i)
    assert r["ts"] >= last
    last = r["ts"]
    assert r["kind"] in kinds
    assert r["severity"] in ("warning", "critical")
    assert r["state"] in ("firing", "resolved")
    assert "\n" not in r["message"] and r["message"]
    assert isinstance(r["details"], dict)
    assert (r["instrument"] is None) == (r["kind"] == "feed_down")
human = [l for l in open(sys.argv[2]) if l.startswith("<")]
assert len(human) == len(recs), (len(human), len(recs))
for l, r in zip(human, recs):
    pri = 6 if r["state"] == "resolved" else 2 if r["severity"] == "critical" else 4
    assert l.startswith("<%d>alert %d: %s " % (pri, r["id"], r["kind"])), l
EOF

grep -q '"kind":"position_liquidated"' "$tmp/a.jsonl" && grep -q '"kind":"position_near"' "$tmp/a.jsonl" \
    && ok "position_near and position_liquidated raised" || bad "position kinds missing"

# The store: exactly the log's records, snapshots with ladder rows, a
# finished replay run, WAL.
python3 - "$tmp/a.jsonl" "$tmp/a.db" <<'EOF' && ok "store holds the alert log's records exactly" || bad "store alerts differ from the log"
import json, sqlite3, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
rows = db.execute("SELECT id, ts, kind, subject, venue, instrument, severity, "
                  "state, message, details FROM alerts ORDER BY run_id, id").fetchall()
assert len(rows) == len(recs), (len(rows), len(recs))
for r, x in zip(rows, recs):
    got = dict(zip(["id", "ts", "kind", "subject", "venue", "instrument",
                    "severity", "state", "message"], r[:9]))
    got["details"] = json.loads(r[9])
    assert got == x, (got, x)
EOF
q() { sqlite3 "$tmp/a.db" "$1" 2>&1; }
[ "$(q 'PRAGMA journal_mode')" = "wal" ] && ok "store in WAL mode" || bad "journal_mode $(q 'PRAGMA journal_mode')"
# the last step of docs/store-schema.sql
sv=$(grep -c '^-- ---- step ' docs/store-schema.sql)
[ "$(q 'PRAGMA user_version')" = "$sv" ] && ok "schema version $sv" || bad "user_version $(q 'PRAGMA user_version'), docs/store-schema.sql has $sv steps"
[ "$(q 'PRAGMA integrity_check')" = "ok" ] && ok "integrity_check ok" || bad "integrity_check"
[ "$(q "SELECT mode, stopped_ns IS NOT NULL FROM runs")" = "replay|1" ] \
    && ok "run record: replay, stopped" || bad "run record: $(q 'SELECT * FROM runs')"
ns=$(q 'SELECT count(*) FROM snapshots')
nr=$(q 'SELECT count(*) FROM snapshot_rows')
ni=$(q 'SELECT count(DISTINCT instrument) FROM snapshots')
[ "$ns" -ge 8 ] && [ "$ni" -eq 8 ] && [ "$nr" -ge $((ns * 9)) ] \
    && ok "snapshots of all 8 instruments with ladder rows ($ns, $nr rows)" \
    || bad "snapshots: $ns snapshots, $nr rows, $ni instruments"
nl=$(q "SELECT count(*) FROM positions WHERE change = 'liquidated' AND source = 'engine'")
nr=$(grep -c '"kind":"position_liquidated"' "$tmp/a.jsonl")
[ "$nl" -eq "$nr" ] && [ "$nl" -gt 0 ] && ok "each liquidation stored as a position change ($nl)" \
    || bad "liquidated position rows $nl, position_liquidated alerts $nr"
np=$(q "SELECT count(*) FROM positions WHERE change = 'load'")
[ "$np" -eq 2000 ] && ok "the 2000 loaded positions stored" || bad "positions stored: $np"
nf=$(q "SELECT count(*) FROM feed_events WHERE kind = 'rejected'")
[ "$nf" -ge 1 ] && ok "rejected frames counted in feed events" || bad "no rejected feed events"
# Two replays of one capture store the same snapshots (event clock).
a=$(q 'SELECT group_concat(ts || instrument || ref, ",") FROM snapshots')
b=$(sqlite3 "$tmp/b.db" 'SELECT group_concat(ts || instrument || ref, ",") FROM snapshots')
[ "$a" = "$b" ] && ok "same snapshots on the capture's clock" || bad "snapshots differ"

# The config's venue settings reach a replay: a Bybit depth of 50 makes
# the capture's orderbook.200 frames "not subscribed".
cat > "$tmp/c.conf" <<EOF
[daemon]
instruments_dir = $PWD/conf/instruments
[venue bybit-linear]
symbols = BTCUSDT ETHUSDT
book_depth = 50
[venue binance-usdm]
symbols = BTCUSDT ETHUSDT
EOF
"$D" --replay "$CAP" --config "$tmp/c.conf" --state-out "$tmp/c.state" --json > /dev/null 2> "$tmp/c.err"
python3 - "$tmp/c.state" <<'EOF' && ok "--config: book_depth reaches the replay" || bad "--config: the replay ignored book_depth"
import json, sys
st = json.load(open(sys.argv[1]))
by = st["venues"]["bybit-linear"]
# frames of another depth than the config's: not used (skipped by rule)
assert by.get("skipped_by_rule", {}).get("other_depth", by["rejected"]) >= 70, by
assert not st["instruments"]["bybit-linear:BTCUSDT"]["book_valid"]
assert st["instruments"]["binance-usdm:BTCUSDT"]["book_valid"]
EOF

# Diagnostic lines: an ISO-8601 UTC timestamp first; under journald
# (JOURNAL_STREAM set) the syslog priority instead.
grep -q '^20[0-9-]*T[0-9:.]*Z warning: ' "$tmp/a.err" \
    && ok "log lines carry a timestamp" || bad "log lines without a timestamp"
JOURNAL_STREAM=8:1234 "$D" --replay "$CAP" --instruments conf/instruments > /dev/null 2> "$tmp/j.err"
grep -q '^<4>warning: ' "$tmp/j.err" && ! grep -q '^20[0-9-]*T' "$tmp/j.err" \
    && ok "under journald: syslog priority prefixes" || bad "under journald: $(head -2 "$tmp/j.err")"

# A bad store path: refused at start with the path named, exit 73.
"$D" --replay "$CAP" --store /nonexistent/dir/x.db > /dev/null 2> "$tmp/e.err"
rc=$?
[ $rc -eq 73 ] && grep -q '/nonexistent/dir/x.db' "$tmp/e.err" \
    && ok "unwritable store: exit 73 naming it" || bad "unwritable store: exit $rc: $(cat "$tmp/e.err")"

exit $fail
