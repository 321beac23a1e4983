#!/bin/sh
# metrics.sh - GET /metrics of a live liqmond fed by liqmon-venue over wss:
# the families docs/metrics.md promises, Debian's `promtool check metrics`
# on the page, and Debian's real `prometheus` scraping the daemon on
# loopback, a liqmon series read back through Prometheus's HTTP API.
# 404 and 405 for what is not a scrape.
. tests/scripts/lib/live.sh
live_init metrics

for t in promtool prometheus curl; do
    command -v $t > /dev/null || { bad "$t is not installed (scripts/install-deps.sh installs it)"; exit 1; }
done

live_venue --seed 5 --crash-at 2 --crash-pct 6 --crash-secs 4
live_conf "$tmp/d.conf" "s#^snapshot_interval = .*#snapshot_interval = 1s\npath = $tmp/m.db#"
printf '[metrics]\nlisten = 127.0.0.1:0\n' >> "$tmp/d.conf"

live_daemon "$tmp/d.conf" --alert-log "$tmp/alerts.jsonl"
wait_for 'metrics on http' "$tmp/d.err" || { bad "no metrics listener"; cat "$tmp/d.err"; exit 1; }
mport=$(sed -n 's/.*metrics on http.*(port \([0-9]*\)).*/\1/p' "$tmp/d.err" | head -1)
wait_for 'okx-swap: public connected' "$tmp/d.err"
wait_for 'hyperliquid' "$tmp/d.err"
sleep 4
M=http://127.0.0.1:$mport

curl -sS -D "$tmp/h" -o "$tmp/m.txt" "$M/metrics" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/h" \
    && ok "GET /metrics answers text/plain version=0.0.4" || { bad "GET /metrics (curl $rc)"; cat "$tmp/h" "$tmp/err"; }

# The families the issue asks for, each with a sample.
missing=
for f in liqmon_build_info liqmon_feed_frames_received_total liqmon_feed_bytes_received_total \
    liqmon_venue_frames_rejected_total liqmon_feed_connection_up liqmon_feed_reconnects_total \
    liqmon_book_resyncs_total liqmon_books_invalid liqmon_tick_to_decision_seconds_bucket \
    liqmon_cascade_worst_amplification liqmon_cascade_worst_shock_ratio liqmon_alerts_written_total \
    liqmon_alerts_firing liqmon_store_queue_depth liqmon_store_rows_written_total \
    liqmon_store_snapshots_coalesced_total liqmon_loop_lag_seconds_bucket; do
    grep -q "^$f[{ ]" "$tmp/m.txt" || missing="$missing $f"
done
[ -z "$missing" ] && ok "every family promised has samples" || bad "missing:$missing"

python3 - "$tmp/m.txt" <<'EOF' && ok "frames counted per venue and connection, ladders and alerts reflected" || bad "values"
import re, sys
v = {}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    name, val = line.rsplit(" ", 1)
    v[name] = float(val)
def get(prefix):
    return {k: x for k, x in v.items() if k.startswith(prefix)}
frames = get("liqmon_feed_frames_received_total{")
venues = {re.search(r'venue="([^"]*)"', k).group(1) for k, x in frames.items() if x > 0}
assert {"binance-usdm", "bybit-linear", "okx-swap", "hyperliquid"} <= venues, venues
up = get("liqmon_feed_connection_up{")
assert sum(up.values()) >= 4, up
info = get("liqmon_build_info{")
assert len(info) == 1 and list(info.values()) == [1.0], info
amp = get("liqmon_cascade_worst_amplification{")
# a move is never smaller than its shock: every ratio is at least 1, and
# the crash makes some side amplify
assert len(amp) >= 8 and all(x >= 1 - 1e-9 for x in amp.values()), amp
assert max(amp.values()) > 1, amp
# histogram: cumulative, +Inf == _count
b = [(k, x) for k, x in v.items() if k.startswith("liqmon_tick_to_decision_seconds_bucket")]
inf = v['liqmon_tick_to_decision_seconds_bucket{le="+Inf"}']
assert inf == v["liqmon_tick_to_decision_seconds_count"] and inf > 0, inf
prev = -1
for k, x in b:
    assert x >= prev, (k, x, prev)
    prev = x
# the engine kept rows that deltas could not reach, never more than it had
kept, lad = v["liqmon_ladder_rows_kept_total"], v["liqmon_ladders_total"]
assert 0 < kept <= 18 * lad, (kept, lad)
# snapshots every second, alerts and prints: the store has written rows
assert v["liqmon_store_rows_written_total"] > 0, v["liqmon_store_rows_written_total"]
assert v["liqmon_store_lost_total"] == 0
EOF

promtool check metrics < "$tmp/m.txt" > "$tmp/pt.out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "promtool check metrics accepts the page" || { bad "promtool check metrics ($rc)"; cat "$tmp/pt.out"; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$M/nothing")
[ "$code" = 404 ] && ok "unknown path: 404" || bad "unknown path: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Length: 0' "$M/metrics")
[ "$code" = 405 ] && ok "POST /metrics: 405" || bad "POST /metrics: $code"

# Debian's Prometheus scraping the daemon; the series read back through
# its query API.
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: liqmon
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
promtool check config "$tmp/prom.yml" > "$tmp/pc.out" 2>&1 || { bad "promtool check config"; cat "$tmp/pc.out"; }
prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$pport" > "$tmp/prom.out" 2>&1 &
ppid=$!
live_pids="$live_pids $ppid"
got=
i=0
while [ $i -lt 60 ] && [ -z "$got" ]; do
    sleep 0.5
    i=$((i + 1))
    curl -s "http://127.0.0.1:$pport/api/v1/query?query=liqmon_feed_frames_received_total" > "$tmp/q.json" 2>/dev/null || continue
    python3 - "$tmp/q.json" 2>/dev/null <<'EOF' && got=1
import json, sys
r = json.load(open(sys.argv[1]))
res = r["data"]["result"]
assert r["status"] == "success" and len(res) >= 4, r
assert any(float(x["value"][1]) > 0 for x in res)
assert all(x["metric"]["job"] == "liqmon" for x in res)
EOF
done
[ -n "$got" ] && ok "Debian's prometheus scraped liqmond; liqmon_feed_frames_received_total read back through /api/v1/query" \
    || { bad "prometheus did not return the series"; tail -5 "$tmp/prom.out"; cat "$tmp/q.json"; }
curl -s "http://127.0.0.1:$pport/api/v1/query?query=up%7Bjob%3D%22liqmon%22%7D" > "$tmp/up.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["data"]["result"][0]["value"][1]=="1"' "$tmp/up.json" \
    && ok "up{job=\"liqmon\"} is 1 (every scrape parsed)" || { bad "up"; cat "$tmp/up.json"; }

live_stop_daemon
[ $drc -eq 0 ] && ok "SIGTERM: exit 0" || { bad "exit $drc"; tail -5 "$tmp/d.err"; }
exit $fail
