#!/bin/sh
# liqmonctl sim: the contract's worked example, stdin input, --trace, and
# every bad scenario under tests/fixtures/bad/ (exit 65, the exact
# one-line message on stderr, nothing on stdout); the bundled example
# scenario teaches something (nothing past its liquidation price, the book
# holds every small shock, one real cascade); the table on a terminal or
# with --table, JSON in a pipe or with --json.
BUILD=${BUILD:-build}
CTL="$BUILD/liqmonctl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

# Good scenario: output equals the contract's worked example, byte for byte.
ex=tests/fixtures/scenarios/contract-example
if "$CTL" sim "$ex.json" > "$tmp/out" 2> "$tmp/err" && cmp -s "$tmp/out" "$ex.expected" \
   && [ ! -s "$tmp/err" ]; then
    ok "sim contract example"
else
    bad "sim contract example"; diff "$tmp/out" "$ex.expected"; cat "$tmp/err"
fi
if "$CTL" sim - < "$ex.json" > "$tmp/out" && cmp -s "$tmp/out" "$ex.expected"; then
    ok "sim reads stdin"
else
    bad "sim reads stdin"
fi
"$CTL" sim --trace "$ex.json" > "$tmp/out" 2>&1
if grep -q '"traces":\[{"side":"down","shock":0,"rounds":\[\]}' "$tmp/out" &&
   grep -q '"price_before":96.5,"new_positions":2,"new_qty":7,"volume":7,"price_after":95' "$tmp/out"; then
    ok "sim --trace records rounds"
else
    bad "sim --trace records rounds"; cat "$tmp/out"
fi

for d in tests/fixtures/bad/*/; do
    d=${d%/}
    name=${d##*/}
    "$CTL" sim "$d/input.json" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    want="liqmonctl sim: $d/input.json: $(cat "$d/expected")"
    got=$(cat "$tmp/err")
    if [ "$rc" -eq 65 ] && [ "$got" = "$want" ] && [ ! -s "$tmp/out" ]; then
        ok "bad scenario $name"
    else
        bad "bad scenario $name (exit $rc)"
        echo "#   want: $want"; echo "#   got:  $got"
    fi
done

# ---- the bundled example: conf/examples/scenario-btcusdt.json ----------------
EXS=conf/examples/scenario-btcusdt.json
"$CTL" sim "$EXS" > "$tmp/ex.json" 2> "$tmp/ex.err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/ex.err" ] && python3 - "$EXS" "$tmp/ex.json" <<'EOF'
import json, sys
sc = json.load(open(sys.argv[1]))
out = json.load(open(sys.argv[2]))
ref = sc["ref"]
fail = []
if not 85000 <= ref <= 95000:
    fail.append("ref %s is not BTCUSDT-like" % ref)
bids, asks = sc["book"]["bids"], sc["book"]["asks"]
if min(p for p, q in bids) > ref * 0.93 or max(p for p, q in asks) < ref * 1.07:
    fail.append("the book does not reach +-7%")
# Depth thins away from the mid (round-number walls aside).
def band(levels, lo, hi):
    return sum(q for p, q in levels if lo <= abs(p - ref) / ref < hi)
for name, lv in (("bids", bids), ("asks", asks)):
    if not band(lv, 0, 0.01) > band(lv, 0.01, 0.02) > band(lv, 0.03, 0.04):
        fail.append("%s: depth does not thin away from the mid" % name)
side = {p["id"]: p["side"] for p in sc["positions"]}
past = [p["id"] for p in out["positions"]
        if (side[p["id"]] == "long" and p["liq_price"] >= ref) or
           (side[p["id"]] == "short" and 0 < p["liq_price"] <= ref)]
if past:
    fail.append("past their liquidation price at ref: %s" % past)
rows = out["results"]
for r in rows:
    if r["shock"] < 0.05 and r["exhausted"]:
        fail.append("%s %s: exhausted below a 5%% shock" % (r["side"], r["shock"]))
    if r["shock"] == 0 and r["liquidated"] != 0:
        fail.append("%s 0: liquidations without a shock" % r["side"])
amp = [r for r in rows if r["amplification"] is not None and r["amplification"] >= 2]
if not amp:
    fail.append("no row with amplification >= 2")
elif not any(r["rounds"] >= 2 for r in amp):
    fail.append("the amplified row is not a cascade (rounds < 2)")
quiet = [r for r in rows if r["shock"] > 0 and r["amplification"] is not None
         and r["amplification"] < 1.1]
if len(quiet) < len(rows) // 2:
    fail.append("most rows should show no cascade (amplification < 1.1)")
if fail:
    print("\n".join("#   " + f for f in fail))
    sys.exit(1)
EOF
then
    ok "example scenario: no position past LP, book holds small shocks, one cascade"
else
    bad "example scenario (exit $rc)"; cat "$tmp/ex.err"
fi

# ---- table or JSON ---------------------------------------------------------------
# A pipe gets JSON (above); --table forces the table; a terminal gets it too.
"$CTL" sim --table "$EXS" > "$tmp/t" 2> "$tmp/t.err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/t.err" ] &&
   grep -q '^side  *shock  *rounds  *liquidated  *qty  *notional  *final price  *move  *amplification  *exhausted$' "$tmp/t" &&
   grep -q '^down  *3%  *3  *37  *67\.317  *5,866,928  *84000  *-6\.67%  *x2\.22  *no$' "$tmp/t" &&
   grep -q '^up  *0%  *0  *0  *0  *0  *90000  *0\.00%  *-  *no$' "$tmp/t" &&
   grep -q '^down  *10%  .* yes (72\.128 unfilled)$' "$tmp/t" &&
   grep -q '0 already past their liquidation price at ref' "$tmp/t" &&
   [ "$(grep -c '^\(down\|up\) ' "$tmp/t")" -eq 18 ]; then
    ok "sim --table: one row per side and shock"
else
    bad "sim --table (exit $rc)"; cat "$tmp/t" "$tmp/t.err"
fi
# Right-aligned columns end where their header ends.
if awk '/^side / { e = index($0, "amplification") + 12 }
        /^(down|up) / { if (substr($0, e, 1) !~ /[0-9-]/) bad = 1 }
        END { exit bad }' "$tmp/t"; then
    ok "sim --table: columns aligned"
else
    bad "sim --table: columns aligned"; cat "$tmp/t"
fi
"$CTL" sim --table --trace "$EXS" > "$tmp/tt" 2>&1
grep -q '^ *round 2: at 86178\.5, 21 new (qty 33\.351), volume 65\.026 -> 84162$' "$tmp/tt" &&
    ok "sim --table --trace: rounds under their row" || { bad "sim --table --trace"; cat "$tmp/tt"; }
if command -v script > /dev/null 2>&1; then
    script -qc "$CTL sim $EXS" /dev/null > "$tmp/tty" 2>&1 < /dev/null
    if grep -q 'amplification' "$tmp/tty" && ! grep -q '"results"' "$tmp/tty"; then
        ok "sim on a terminal prints the table"
    else
        bad "sim on a terminal prints the table"; cat "$tmp/tty"
    fi
    script -qc "$CTL sim --json $EXS" /dev/null > "$tmp/tty" 2>&1 < /dev/null
    if grep -q '^{"results":\[' "$tmp/tty"; then
        ok "sim --json on a terminal prints JSON"
    else
        bad "sim --json on a terminal prints JSON"; cat "$tmp/tty"
    fi
else
    ok "sim on a terminal # SKIP no script(1)"
fi
"$CTL" sim --json "$ex.json" > "$tmp/out" && cmp -s "$tmp/out" "$ex.expected" &&
    ok "sim --json: the contract's output" || bad "sim --json"

"$CTL" sim /nonexistent/x.json > /dev/null 2>&1
[ $? -eq 66 ] && ok "missing file exits 66" || bad "missing file exits 66"
"$CTL" frobnicate > /dev/null 2>&1
[ $? -eq 64 ] && ok "unknown command exits 64" || bad "unknown command exits 64"
"$CTL" --version | grep -q '^liqmonctl [0-9]' && ok "--version" || bad "--version"
"$CTL" --help | grep -q 'sim' && ok "--help" || bad "--help"
"$CTL" sim --help > "$tmp/out" 2>&1 && grep -q '^usage: liqmonctl sim' "$tmp/out" &&
    ok "sim --help" || bad "sim --help"
exit $fail
