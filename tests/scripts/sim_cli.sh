#!/bin/sh
# liqmonctl sim: the contract's worked example, stdin input, --trace, and
# every bad scenario under tests/fixtures/bad/ (exit 65, the exact
# one-line message on stderr, nothing on stdout).
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

"$CTL" sim /nonexistent/x.json > /dev/null 2>&1
[ $? -eq 66 ] && ok "missing file exits 66" || bad "missing file exits 66"
"$CTL" frobnicate > /dev/null 2>&1
[ $? -eq 64 ] && ok "unknown command exits 64" || bad "unknown command exits 64"
"$CTL" --version | grep -q '^liqmonctl [0-9]' && ok "--version" || bad "--version"
"$CTL" --help | grep -q 'sim' && ok "--help" || bad "--help"
exit $fail
