#!/bin/sh
# venue_adl_warning through a replay (issue: venues' ADL early warnings):
# a capture with OKX adl-warning and Bybit adlAlert frames gives the
# warning -> critical -> resolved records in the alert log, garbage in
# those frames is counted as rejected and never stops the replay, and two
# replays give the same log.
BUILD=${BUILD:-build}
D="$BUILD/liqmond"
CAP=tests/fixtures/captures/adl-warnings.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

"$D" --replay "$CAP" --instruments conf/instruments --alert-log "$tmp/a.jsonl" \
    --json > "$tmp/a.out" 2> "$tmp/a.err"
rc=$?
[ $rc -eq 0 ] && ok "replay of ADL frames exits 0" || { bad "replay exits $rc"; tail -5 "$tmp/a.err"; }
"$D" --replay "$CAP" --instruments conf/instruments --alert-log "$tmp/b.jsonl" \
    > /dev/null 2>&1
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" && ok "two replays: identical alert logs" \
    || bad "alert logs differ"

python3 - "$tmp/a.jsonl" <<'PY' && ok "venue_adl_warning records: OKX and Bybit, warning -> critical -> resolved" || bad "venue_adl_warning records"
import json, sys
T0 = 1796040000000000000
recs = [json.loads(l) for l in open(sys.argv[1])]
adl = [r for r in recs if r["kind"] == "venue_adl_warning"]
got = [(round((r["ts"] - T0) / 1e9, 1), r["subject"], r["severity"], r["state"]) for r in adl]
want = [
    (1.0, "okx-swap:SWAP:BTC-USDT", "warning", "firing"),
    (5.5, "bybit-linear:USDT:BTCUSDT", "warning", "firing"),
    (6.0, "okx-swap:SWAP:BTC-USDT", "critical", "firing"),
    (10.5, "bybit-linear:USDT:BTCUSDT", "critical", "firing"),
    # OKX: last push at 10 s, quiet (10 s) from 20 s: a hold from the first
    # evaluation of the venue after that (the mark at 20 s), 30 s later
    (50.0, "okx-swap:SWAP:BTC-USDT", "critical", "resolved"),
    # Bybit: pr 0 again from 15.5 s: a hold from there; the first Bybit
    # event 30 s later is the ticker at 50 s (a replay has no ticks)
    (50.0, "bybit-linear:USDT:BTCUSDT", "critical", "resolved"),
]
assert sorted(got) == sorted(want), got
for r in adl:
    assert r["venue"] in ("okx-swap", "bybit-linear")
    assert r["instrument"] == ("okx-swap:BTC-USDT-SWAP" if r["venue"] == "okx-swap"
                               else "bybit-linear:BTCUSDT"), r
    assert "insurance fund (USDT)" in r["message"], r["message"]
    d = r["details"]
    for k in ("scope", "ccy", "venue_level", "state", "balance", "threshold",
              "ratio", "ratio_trigger", "ratio_stop", "adl_quiet_s"):
        assert k in d, (k, d)
assert any("ADL active" in r["message"] for r in adl)
assert any("no ADL warning pushed for" in r["message"] for r in adl)
assert not any("FWOG" in r["subject"] for r in recs)
PY

python3 - "$tmp/a.out" <<'PY' && ok "garbage ADL frames rejected and counted; events counted" || bad "rejections / events: $(head -c 600 "$tmp/a.out")"
import json, sys
st = json.load(open(sys.argv[1]))
def find(o, key):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key:
                yield v
            yield from find(v, key)
    elif isinstance(o, list):
        for v in o:
            yield from find(v, key)
ev = list(find(st, "adl_warning"))
assert ev and sum(x for x in ev if isinstance(x, int)) >= 50, ev
rj = [x for x in find(st, "rejected") if isinstance(x, int)]
assert sum(rj) >= 2, rj
PY

exit $fail
