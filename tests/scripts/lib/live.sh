# tests/scripts/lib/live.sh - sourced by the live tests (not a test itself:
# tests/run-scripts.sh runs tests/scripts/*.sh only).  The setup the live
# scripts share: a scratch directory with cleanup, liqmon-venue over wss
# with a generated certificate, a liqmond config generated from
# conf/demo.conf, liqmond started on it, and small helpers.
#
#   . tests/scripts/lib/live.sh
#   live_init NAME                  # $tmp, traps; ok/bad print "NAME: ..."
#   live_venue --seed 5 [--crash-at 2 ...]   # liqmon-venue --generate --tls:
#                                   # $vpid, $port (VPORT=P: that port)
#   live_conf FILE [SED-EXPR...]    # conf/demo.conf for $port, absolute paths,
#                                   # status_interval 0, control socket
#                                   # $tmp/ctl.sock; extra sed expressions
#   live_daemon FILE ARGS...        # liqmond -c FILE ARGS > $tmp/d.out
#                                   # 2>> $tmp/d.err &: $dpid
#   live_stop_daemon                # SIGTERM, wait: $drc (exit code)
#   wait_for PATTERN FILE [TENTHS]  # grep until found (default 10 s)
#   api PATH                        # the control API: status line, body
#   vget PATH                       # GET from liqmon-venue (control, state)
#   lines FILE                      # its line count (0 if absent)
#
# Every process started here is killed (kill -9 by pid) on exit; $KEEP
# keeps $tmp.  Extra pids to kill: add them to $live_pids.
BUILD=${BUILD:-build}
D=$BUILD/liqmond
V=$BUILD/liqmon-venue
CTL=$BUILD/liqmonctl
vpid=
dpid=
live_pids=
fail=0
live_name=live

ok() { echo "ok - $live_name: $1"; }
bad() { echo "not ok - $live_name: $1"; fail=1; }
skip() { echo "ok - $live_name: $1 # SKIP $2"; }

live_cleanup() {
    for p in $dpid $vpid $live_pids; do kill -9 "$p" 2>/dev/null; done
    for p in $dpid $vpid $live_pids; do wait "$p" 2>/dev/null; done
    [ -n "$live_cleanup_hook" ] && $live_cleanup_hook
    if [ -n "$KEEP" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}

live_init() {
    live_name=$1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
    trap live_cleanup EXIT
    trap 'exit 1' INT TERM
}

# live_venue ARGS...: liqmon-venue --generate over wss on $VPORT (0: a free
# one); sets $vpid and $port.  A second call (after the first was killed)
# reuses the certificate.
live_venue() {
    [ -f "$tmp/localhost.crt" ] || "$V" --gen-cert "$tmp" > /dev/null \
        || { bad "gen-cert"; exit 1; }
    : > "$tmp/v.out"
    "$V" --generate --port "${VPORT:-0}" --tls --cert "$tmp/localhost.crt" \
        --key "$tmp/localhost.key" "$@" > "$tmp/v.out" 2>> "$tmp/v.err" &
    vpid=$!
    port=
    _i=0
    while [ $_i -lt 100 ] && [ -z "$port" ]; do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/v.out")
        [ -n "$port" ] || sleep 0.1
        _i=$((_i + 1))
    done
    [ -n "$port" ] || { bad "liqmon-venue did not start"; cat "$tmp/v.err"; exit 1; }
}

# live_conf FILE [SED-EXPR...]
live_conf() {
    _out=$1
    shift
    sed -e "s/@PORT@/$port/g" -e "s#@CA@#$tmp/localhost.crt#" -e "s#@CONF@#$PWD/conf#g" \
        -e 's/^status_interval = .*/status_interval = 0/' conf/demo.conf > "$_out.tmp"
    printf '[control]\nsocket = %s/ctl.sock\n' "$tmp" >> "$_out.tmp"
    for _e in "$@"; do
        sed -i -e "$_e" "$_out.tmp"
    done
    mv "$_out.tmp" "$_out"
}

live_daemon() {
    _c=$1
    shift
    "$D" -c "$_c" "$@" > "$tmp/d.out" 2>> "$tmp/d.err" &
    dpid=$!
}

live_stop_daemon() {
    kill -TERM "$dpid" 2>/dev/null
    wait "$dpid"
    drc=$?
    dpid=
}

wait_for() {   # wait_for PATTERN FILE [tenths]
    _i=0
    while [ $_i -lt "${3:-100}" ]; do
        grep -q "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# api PATH [SOCKET]: GET through the daemon's control socket
api() {
    python3 - "${2:-$tmp/ctl.sock}" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
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

# vget PATH: GET https://localhost:$port/PATH from liqmon-venue (body)
vget() {
    curl -sS --max-time 10 --cacert "$tmp/localhost.crt" "https://localhost:$port$1"
}

# check_prefix DB RUN_ID LOG [exact]: the run's stored alerts are the first
# records of the alert log LOG, field for field (all of them with "exact");
# prints "stored logged"
check_prefix() {
    python3 - "$1" "$2" "$3" "${4:-prefix}" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = db.execute("SELECT id, ts, kind, subject, venue, instrument, severity, state, "
                  "message, details FROM alerts WHERE run_id = ? ORDER BY id",
                  (int(sys.argv[2]),)).fetchall()
log = []
for l in open(sys.argv[3]):
    if not l.endswith("\n"):
        break                      # a line cut by the kill: not a record
    log.append(json.loads(l))
assert len(rows) <= len(log), (len(rows), len(log))
if sys.argv[4] == "exact":
    assert len(rows) == len(log), (len(rows), len(log))
for k, (r, x) in enumerate(zip(rows, log)):
    got = dict(zip(["id", "ts", "kind", "subject", "venue", "instrument", "severity",
                    "state", "message"], r[:9]))
    got["details"] = json.loads(r[9])
    assert got["id"] == k + 1, ("ids not 1..K", got["id"], k + 1)
    assert got == x, (got, x)
print(len(rows), len(log))
EOF
}
