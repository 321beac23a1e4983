#!/bin/sh
# Fault test (make faults): disk full.  The store and the alert log live on
# a 2 MiB tmpfs (mount needs root; if it fails the test says so and
# skips).  liqmond runs against a crashing market (alerts all along) with
# snapshots every second; the tmpfs is filled up (ballast file) and a venue
# drop raises feed_down alerts while it is full.  Then the tmpfs is
# remounted at 64 MiB.  Asserts:
#   - while full: the daemon stays up; a log line says the store cannot
#     write and keeps the records; one says the alert log cannot write;
#     a sink_failing alert (critical) is raised;
#   - after: the store says "writing again", sink_failing is resolved;
#   - SIGTERM: exit 0, integrity_check ok;
#   - nothing raised is missing from the store: the run's stored alerts are
#     ids 1..N, N the last id raised (the daemon's stderr alert lines),
#     including those raised while the disk was full;
#   - the alert log holds only whole lines (no half-written record), each
#     equal to the store's record of its id, and the lines it lacks are
#     exactly the count the sink_failing resolution reports
#     (log_lines_failed).
. tests/scripts/lib/live.sh
live_init disk_full
mnt=$tmp/disk
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=2m tmpfs "$mnt" 2> "$tmp/mount.err"; then
    skip "disk full" "cannot mount a tmpfs: $(cat "$tmp/mount.err")"
    exit 0
fi
umount_disk() { umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; }
live_cleanup_hook=umount_disk

live_venue --seed 41 --crash-at 1 --crash-pct 20 --crash-secs 60
live_conf "$tmp/d.conf" 's/^snapshot_interval = .*/snapshot_interval = 1s/' \
    's/^\[alerts\]$/[alerts]\nclear_after = 1s/'
live_daemon "$tmp/d.conf" --store "$mnt/s.db" --alert-log "$mnt/a.jsonl"
wait_for 'bybit-linear: public connected' "$tmp/d.err" || bad "bybit did not connect"
sleep 2
# fill what is left
dd if=/dev/zero of="$mnt/ballast" bs=16k 2> /dev/null
echo "# tmpfs full: $(df -k "$mnt" | awk 'NR == 2 { print $3 " KiB used, " $4 " KiB free" }')"
wait_for 'store: .*keeping the records and retrying' "$tmp/d.err" 100 \
    && ok "full: the store says it cannot write and keeps the records" \
    || bad "no store error line"
vget '/control?action=drop&venue=bybit-linear' > /dev/null     # feed_down alerts
sleep 1
vget '/control?action=drop&venue=hyperliquid' > /dev/null
wait_for 'alertlog: .*cannot write alert' "$tmp/d.err" 50 \
    && ok "full: the alert log says it cannot write" || bad "no alert log error line"
wait_for 'alert [0-9]*: sink_failing critical firing' "$tmp/d.err" 50 \
    && ok "full: sink_failing alert raised" || bad "no sink_failing alert"
sleep 3
kill -0 "$dpid" 2>/dev/null && ok "full: daemon up" || bad "daemon died on a full disk"
full_last=$(sed -n 's/^<[0-9]>alert \([0-9]*\):.*/\1/p' "$tmp/d.err" | tail -1)

mount -o remount,size=64m "$mnt" && echo "# remounted at 64 MiB"
wait_for 'store: .*writing again' "$tmp/d.err" 100 && ok "space back: the store writes again" \
    || bad "store not writing again"
wait_for 'alert [0-9]*: sink_failing critical resolved' "$tmp/d.err" 100 \
    && ok "space back: sink_failing resolved" || bad "sink_failing not resolved"
sleep 1
live_stop_daemon
[ $drc -eq 0 ] && ok "SIGTERM: exit 0" || { bad "SIGTERM: exit $drc"; tail -5 "$tmp/d.err"; }
[ "$(sqlite3 "$mnt/s.db" 'PRAGMA integrity_check')" = ok ] && ok "integrity_check ok" \
    || bad "integrity_check"
python3 - "$mnt/s.db" "$mnt/a.jsonl" "$tmp/d.err" "$full_last" <<'EOF' && ok "nothing raised is missing from the store; the log's gaps are counted" || bad "store/log after the disk was full"
import json, re, sqlite3, sys
db, logp, errp, full_last = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4] or 0)
raised = [int(m.group(1)) for m in (re.match(r"<\d>alert (\d+):", l) for l in open(errp, errors="replace")) if m]
n = max(raised)
cols = ["id", "ts", "kind", "subject", "venue", "instrument", "severity", "state", "message", "details"]
rows = sqlite3.connect(db).execute("SELECT %s FROM alerts WHERE run_id = 1 ORDER BY id" % ", ".join(cols)).fetchall()
ids = [r[0] for r in rows]
assert ids == list(range(1, n + 1)), ("stored ids not 1..%d" % n, len(ids), ids[-3:])
store = {r[0]: dict(zip(cols, r[:9]), details=json.loads(r[9])) for r in rows}
raw = open(logp, "rb").read()
assert raw.endswith(b"\n"), "the log ends in a partial line"
log = [json.loads(l) for l in raw.decode().splitlines()]   # every line whole JSON
for x in log:
    assert store[x["id"]] == x, (x, store[x["id"]])
missing = n - len(log)
res = [r for r in rows if r[2] == "sink_failing" and r[7] == "resolved"]
assert res, "no sink_failing resolution stored"
counted = json.loads(res[-1][9])["log_lines_failed"]
print("# %d alerts raised (%d by the time the disk was freed), all %d stored; "
      "the log has %d, %d missing, %d counted as refused" % (n, full_last, len(rows), len(log), missing, counted))
assert missing == counted, (missing, counted)
assert missing > 0, "nothing was refused: the disk was not full"
EOF
exit $fail
