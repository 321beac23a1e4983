#!/bin/sh
# Fault test (make faults): the venue server goes away, then stalls.
#
# 1. liqmon-venue killed (-9) for 4 s, then restarted on the same port:
#    - liqmond stays up and retries with backoff (the "next attempt in"
#      delays it logs grow, and it does not hammer the port: fewer
#      attempts per connection than 4 s / backoff_min);
#    - a feed_down alert fires for every connection, and each is resolved
#      once the venue is back (alert log);
#    - every book is valid again and equal to the new server's (control
#      API /v1/instruments; GET /state of liqmon-venue under freeze vs
#      liqmond's --state-out at exit);
#    - no ladder from a stale book: no stored snapshot has ladder_valid = 1
#      with book_valid = 0, and every snapshot taken while the venue was
#      down says book_valid = 0 (store).
# 2. liqmon-venue stopped with SIGSTOP for 8 s (stale_after 3 s), then
#    SIGCONT: the same through staleness: "stale" in the log, feed_down
#    fired and resolved, books valid again, the same snapshot rule (from
#    stale_after + 1/4 of it, the staleness check's period, + 0.35 s after
#    the stop: no snapshot valid).  The window after that is almost 4 s:
#    with snapshot_interval 1 s on the daemon's 1 s tick, a tick that
#    comes a hair before a snapshot is due leaves 2 s between two, and a
#    6 s stop once left a window with none.
. tests/scripts/lib/live.sh
live_init venue_outage
cont_venue() { [ -n "$vpid" ] && kill -CONT "$vpid" 2>/dev/null; }
live_cleanup_hook=cont_venue

live_venue --seed 21
live_conf "$tmp/d.conf" 's/^snapshot_interval = .*/snapshot_interval = 1s/' \
    's/^\[alerts\]$/[alerts]\nclear_after = 1s/' \
    's/^status_interval = 0$/status_interval = 0\nstale_after = 3s\nbackoff_min = 250ms\nbackoff_max = 4s/'
live_daemon "$tmp/d.conf" --store "$tmp/s.db" --alert-log "$tmp/a.jsonl" \
    --state-out "$tmp/state.json"
q() { sqlite3 "$tmp/s.db" "$1" 2>&1; }
nconn=6    # binance public+market, bybit, okx, hyperliquid public+agg

# all_valid: every instrument's book valid per the control API (0/1)
all_valid() {
    api /v1/instruments 2>/dev/null | python3 -c '
import json, sys
sys.stdin.readline()
ins = json.loads(sys.stdin.read())
print(1 if ins and all(v["book_valid"] for v in ins.values()) else 0)' 2>/dev/null || echo 0
}
wait_valid() {   # wait_valid TENTHS
    _j=0
    while [ $_j -lt "$1" ]; do
        [ "$(all_valid)" = 1 ] && return 0
        sleep 0.1
        _j=$((_j + 1))
    done
    return 1
}
# feed_down_cycle SINCE_LINE: every connection's feed_down fired and
# resolved after line SINCE_LINE of the alert log; prints the counts
feed_down_cycle() {
    tail -n +"$(($1 + 1))" "$tmp/a.jsonl" | python3 -c '
import json, sys
fired, resolved = set(), set()
for l in sys.stdin:
    r = json.loads(l)
    if r["kind"] != "feed_down":
        continue
    (resolved if r["state"] == "resolved" else fired).add(r["subject"])
print(len(fired), len(resolved))
sys.exit(0 if len(fired) >= int(sys.argv[1]) and fired == resolved else 1)' "$nconn"
}
now_ns() { date +%s%N; }

wait_valid 150 && ok "all books valid at start" || bad "books not valid at start"
sleep 2

# ---- 1. killed, restarted on the same port ---------------------------------
a0=$(lines "$tmp/a.jsonl")
e0=$(lines "$tmp/d.err")
t_down=$(now_ns)
kill -9 "$vpid"
wait "$vpid" 2>/dev/null
vpid=
sleep 4
t_up=$(now_ns)
VPORT=$port live_venue --seed 22
kill -0 "$dpid" 2>/dev/null && ok "daemon up while the venue was down" || bad "daemon died"
wait_valid 200 && ok "venue restarted: every book resynced (control API)" \
    || { bad "books not valid 20 s after the venue came back"; api /v1/instruments | head -c 600; }
t_ok=$(now_ns)
sleep 2.5                                  # clear_after 1 s, ticks 1 s
tail -n +"$((e0 + 1))" "$tmp/d.err" > "$tmp/e1"
python3 - "$tmp/e1" <<'EOF' && ok "reconnect with backoff" || bad "reconnect backoff"
import re, sys
per = {}
for l in open(sys.argv[1]):
    m = re.search(r"(\S+): (?:connect to \S+ failed|disconnected from).*next attempt in ([0-9.]+) ?(ms|s)", l)
    if m:
        d = float(m.group(2)) * (1 if m.group(3) == "s" else 0.001)
        per.setdefault(m.group(1), []).append(d)
assert per, "no retry lines"
for c, ds in per.items():
    print("# %s: %d attempts, delays %s" % (c, len(ds), " ".join("%.2f" % d for d in ds)))
    assert len(ds) >= 2 and len(ds) < 4 / 0.25, (c, ds)
    assert max(ds) > 2 * min(ds), ("no backoff", c, ds)
EOF
out=$(feed_down_cycle "$a0") && ok "feed_down fired and resolved for each connection ($out)" \
    || bad "feed_down after the restart: fired/resolved $out"
# the snapshot rule
bad_snap=$(q "SELECT count(*) FROM snapshots WHERE ladder_valid = 1 AND book_valid = 0")
down_valid=$(q "SELECT count(*) FROM snapshots WHERE ts BETWEEN $t_down + 500000000 AND $t_up AND (book_valid = 1 OR ladder_valid = 1)")
down_all=$(q "SELECT count(*) FROM snapshots WHERE ts BETWEEN $t_down + 500000000 AND $t_up")
[ "$bad_snap" = 0 ] && [ "$down_valid" = 0 ] && [ "$down_all" -gt 0 ] \
    && ok "no ladder from a stale book: $down_all snapshots while down, none valid" \
    || bad "snapshots: $bad_snap with a ladder on an invalid book, $down_valid of $down_all valid while down"

# ---- 2. stalled with SIGSTOP, resumed with SIGCONT --------------------------
a0=$(lines "$tmp/a.jsonl")
e0=$(lines "$tmp/d.err")
t_down=$(now_ns)
kill -STOP "$vpid"
sleep 8                                    # stale_after 3 s
t_up=$(now_ns)
kill -CONT "$vpid"
kill -0 "$dpid" 2>/dev/null && ok "daemon up through the stall" || bad "daemon died in the stall"
tail -n +"$((e0 + 1))" "$tmp/d.err" | grep -q ': stale: no message' \
    && ok "stall detected as stale" || bad "no stale line in the log"
wait_valid 200 && ok "stall over: every book resynced" || bad "books not valid after SIGCONT"
sleep 2.5
out=$(feed_down_cycle "$a0") && ok "stall: feed_down fired and resolved for each connection ($out)" \
    || bad "stall: feed_down fired/resolved $out"
bad_snap=$(q "SELECT count(*) FROM snapshots WHERE ladder_valid = 1 AND book_valid = 0")
down_valid=$(q "SELECT count(*) FROM snapshots WHERE ts BETWEEN $t_down + 4100000000 AND $t_up AND (book_valid = 1 OR ladder_valid = 1)")
down_all=$(q "SELECT count(*) FROM snapshots WHERE ts BETWEEN $t_down + 4100000000 AND $t_up")
[ "$bad_snap" = 0 ] && [ "$down_valid" = 0 ] && [ "$down_all" -gt 0 ] \
    && ok "stall: no ladder from a stale book ($down_all snapshots once stale, none valid)" \
    || bad "stall snapshots: $bad_snap with a ladder on an invalid book, $down_valid of $down_all valid once stale"

# ---- books equal to the server's, under freeze ------------------------------
vget '/control?action=freeze' > /dev/null
sleep 1.5
for v in binance-usdm:BTCUSDT binance-usdm:ETHUSDT bybit-linear:BTCUSDT bybit-linear:ETHUSDT \
         okx-swap:BTC-USDT-SWAP okx-swap:ETH-USDT-SWAP hyperliquid:BTC hyperliquid:ETH; do
    vget "/state?venue=${v%%:*}&symbol=${v#*:}" > "$tmp/vs.$v.json"
done
live_stop_daemon
[ $drc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $drc"
python3 - "$tmp" <<'EOF' && ok "every book equal to the restarted server's" || bad "books differ from the server's"
import glob, json, os, sys
from decimal import Decimal
tmp = sys.argv[1]
st = json.load(open(os.path.join(tmp, "state.json")))["instruments"]
ctv = {"BTC-USDT-SWAP": Decimal("0.01"), "ETH-USDT-SWAP": Decimal("0.1")}
bad = 0
for f in sorted(glob.glob(os.path.join(tmp, "vs.*.json"))):
    key = os.path.basename(f)[3:-5]
    srv = json.load(open(f))
    mine = st[key]
    mul = ctv.get(srv["symbol"], Decimal(1)) if srv["units"] == "contracts" else Decimal(1)
    for side in ("bids", "asks"):
        a = [(Decimal(p), Decimal(q) * mul) for p, q in srv[side]]
        b = [(Decimal(repr(p)), Decimal(str(q))) for p, q in mine[side]]
        if len(a) != len(b) or any(abs(x[0] - y[0]) > Decimal("1e-9") * x[0] or x[1] != y[1]
                                   for x, y in zip(a, b)):
            print("# %s %s: server %d levels %s, liqmond %d levels %s" % (key, side, len(a), a[:2], len(b), b[:2]))
            bad += 1
    if not mine["book_valid"]:
        print("# %s: invalid at exit" % key)
        bad += 1
sys.exit(1 if bad else 0)
EOF
exit $fail
