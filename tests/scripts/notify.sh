#!/bin/sh
# liqmond speaks systemd's notify protocol (Type=notify): live against
# liqmon-venue over wss, with NOTIFY_SOCKET pointing at a python3 AF_UNIX
# SOCK_DGRAM listener that logs every datagram (CLOCK_MONOTONIC time,
# sender pid from SCM_CREDENTIALS, bytes) and WATCHDOG_USEC=2000000 /
# WATCHDOG_PID=<its pid> as systemd sets them.  Wait for READY=1, SIGHUP,
# wait for the second READY=1, SIGTERM.  The datagrams must be, in order:
#   READY=1            feeds started, store open
#   STATUS=...         one-line health (at least one, anywhere)
#   WATCHDOG=1         at least twice, never more than WATCHDOG_USEC apart
#   RELOADING=1        after the SIGHUP, with MONOTONIC_USEC=<now> in the
#                      same datagram (systemd 253's notify-reload)
#   READY=1            the reload done
#   STOPPING=1         after the SIGTERM
# all sent by the main process (NotifyAccess=main), and exit 0.
# The venue and config setup: tests/scripts/lib/live.sh.
. tests/scripts/lib/live.sh
live_init notify
lpid=

# ---- the stand-in service manager ---------------------------------------
cat > "$tmp/listen.py" <<'EOF'
import json, os, socket, struct, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
with open(log, "a", buffering=1) as f:
    f.write(json.dumps({"t": time.clock_gettime(time.CLOCK_MONOTONIC),
                        "listening": True}) + "\n")
    while True:
        msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
        t = time.clock_gettime(time.CLOCK_MONOTONIC)
        pid = None
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        f.write(json.dumps({"t": t, "pid": pid,
                            "msg": msg.decode("utf-8", "backslashreplace")}) + "\n")
EOF
python3 "$tmp/listen.py" "$tmp/notify.sock" "$tmp/notify.log" 2> "$tmp/l.err" &
lpid=$!
live_pids=$lpid
i=0
while [ $i -lt 50 ] && ! grep -q listening "$tmp/notify.log" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
grep -q listening "$tmp/notify.log" 2>/dev/null \
    || { bad "the python3 listener did not start"; cat "$tmp/l.err"; exit 1; }

# ---- the venue (tests/scripts/lib/live.sh) ----------------------------------
live_venue --seed 7
live_conf "$tmp/d.conf"

# ---- liqmond under the stand-in manager ------------------------------------
# WATCHDOG_PID is the daemon's own pid, as systemd sets it: exec keeps it.
NOTIFY_SOCKET="$tmp/notify.sock" WATCHDOG_USEC=2000000 \
    sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' sh \
    "$D" --config "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$tmp/a.jsonl" \
    > "$tmp/d.out" 2> "$tmp/d.err" &
dpid=$!
mainpid=$dpid

# count MSG: datagrams holding the line MSG so far
count() {
    python3 - "$tmp/notify.log" "$1" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if sys.argv[2] in r.get("msg", "").split("\n"):
        n += 1
print(n)
EOF
}
# wait_for MSG N SECONDS: until N datagrams hold MSG (0: timed out)
wait_for() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        [ "$(count "$1")" -ge "$2" ] && return 0
        kill -0 "$dpid" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

if wait_for READY=1 1 15; then
    ok "READY=1 after start"
    sleep 2.5                   # WATCHDOG=1 every second (WATCHDOG_USEC/2)
    if kill -HUP "$dpid" 2>/dev/null && wait_for READY=1 2 10; then
        ok "READY=1 again after SIGHUP"
    else
        bad "no second READY=1 within 10 s of SIGHUP (notify_reloading() then notify_ready() on SIGHUP?)"
    fi
    sleep 1.5
elif kill -0 "$dpid" 2>/dev/null; then
    bad "no READY=1 within 15 s of start (is notify_ready() wired into liqmond?)"
else
    bad "liqmond exited before READY=1"
fi
kill -TERM "$dpid" 2>/dev/null
i=0
while [ $i -lt 100 ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$dpid" 2>/dev/null; then
    bad "still running 10 s after SIGTERM (TimeoutStopSec=10)"
    kill -9 "$dpid"
fi
wait "$dpid"
rc=$?
dpid=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "exit $rc"
sleep 0.2                       # the last datagram into the log

# ---- the sequence ----------------------------------------------------------
python3 - "$tmp/notify.log" "$rc" "$mainpid" <<'EOF'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
recs = [r for r in recs if "msg" in r]
fails = 0
def ok(m): print("ok - notify: " + m)
def bad(m):
    global fails
    fails += 1
    print("not ok - notify: " + m)

known = {"READY", "STATUS", "WATCHDOG", "RELOADING", "MONOTONIC_USEC", "STOPPING"}
lines = []                      # (t, line, datagram index)
for k, r in enumerate(recs):
    for l in r["msg"].split("\n"):
        lines.append((r["t"], l, k))
pids = {r["pid"] for r in recs}
t0 = recs[0]["t"] if recs else 0
print("# %d datagrams:" % len(recs))
for r in recs:
    print("#   +%7.3f s  pid %s  %r" % (r["t"] - t0, r["pid"], r["msg"]))

if not recs:
    bad("no datagram at all on NOTIFY_SOCKET: liqmond does not call notify_* yet "
        "(READY=1, STATUS=, WATCHDOG=1, RELOADING=1, READY=1, STOPPING=1 all missing)")
    sys.exit(1)

bad_lines = [l for _, l, _ in lines
             if not re.fullmatch(r"[A-Z_]+=[^\n]*", l) or l.split("=", 1)[0] not in known]
if bad_lines:
    bad("lines that are not a known KEY=VALUE (a STATUS= over two lines?): %r" % bad_lines)
else:
    ok("every line a known KEY=VALUE")
if pids == {int(sys.argv[3])}:
    ok("all datagrams from the main process, pid %s (NotifyAccess=main)" % sys.argv[3])
else:
    bad("datagrams from pids %r, the main process is %s: NotifyAccess=main "
        "takes only its" % (sorted(pids, key=str), sys.argv[3]))

def first(pred, start=0):
    for i in range(start, len(lines)):
        if pred(lines[i][1]):
            return i
    return None

missing = []
r1 = first(lambda l: l == "READY=1")
if r1 is None:
    missing.append("READY=1")
status = [l for _, l, _ in lines if l.startswith("STATUS=")]
if status:
    ok("%d STATUS= lines, the last: %s" % (len(status), status[-1]))
else:
    missing.append("STATUS=")
rl = first(lambda l: l == "RELOADING=1", (r1 or 0) + 1) if r1 is not None else None
if rl is None:
    missing.append("RELOADING=1 (after READY=1)")
r2 = first(lambda l: l == "READY=1", rl + 1) if rl is not None else None
if rl is not None and r2 is None:
    missing.append("READY=1 (after RELOADING=1)")
st = first(lambda l: l == "STOPPING=1", (r2 if r2 is not None else (r1 or 0)) + 1)
if st is None:
    missing.append("STOPPING=1 (after the last READY=1)")

if r1 is not None:
    wd_run = [t for t, l, i in lines if l == "WATCHDOG=1" and lines[r1][0] <= t
              and (st is None or t <= lines[st][0])]
    if len(wd_run) >= 2:
        gaps = [b - a for a, b in zip([lines[r1][0]] + wd_run, wd_run)]
        if max(gaps) < 2.0:
            ok("%d WATCHDOG=1 while running, at most %.2f s apart (WATCHDOG_USEC 2 s)"
               % (len(wd_run), max(gaps)))
        else:
            bad("WATCHDOG=1 up to %.2f s apart: more than WATCHDOG_USEC (2 s); "
                "send it every WATCHDOG_USEC/2" % max(gaps))
    else:
        missing.append("WATCHDOG=1 at least twice between READY=1 and STOPPING=1 "
                       "(got %d; notify_watchdog_usec() and a timer at half of it?)"
                       % len(wd_run))

if rl is not None:
    t, _, k = lines[rl]
    m = re.search(r"(?:^|\n)MONOTONIC_USEC=([0-9]+)(?:\n|$)", recs[k]["msg"])
    if not m:
        bad("RELOADING=1 without MONOTONIC_USEC= in the same datagram: %r" % recs[k]["msg"])
    else:
        us = int(m.group(1))
        # CLOCK_MONOTONIC: at or before the datagram arrived, not long before
        if t * 1e6 - 5e6 <= us <= t * 1e6 + 1000:
            ok("RELOADING=1 with MONOTONIC_USEC=%d (%.3f s before it arrived)"
               % (us, t - us / 1e6))
        else:
            bad("MONOTONIC_USEC=%d is not CLOCK_MONOTONIC now (%d us)" % (us, t * 1e6))

if missing:
    for m in missing:
        bad("missing: " + m)
else:
    ok("in order: READY=1, RELOADING=1, READY=1, STOPPING=1")
    late = [l for _, l, _ in lines[st + 1:] if l in ("READY=1", "RELOADING=1")]
    if late:
        bad("after STOPPING=1: %r" % late)
sys.exit(1 if fails else 0)
EOF
[ $? -eq 0 ] || fail=1
[ $fail -eq 0 ] || { echo "# liqmond stderr (last lines):"; tail -8 "$tmp/d.err" | sed 's/^/#   /'; }
exit $fail
