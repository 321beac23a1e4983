#!/bin/sh
# liqmonctl positions check: the good fixtures and examples load (exit 0,
# nothing on stderr); every bad row of bad.csv / bad.jsonl is reported
# with exactly the lines in its .expected file (exit 65, figures still
# printed); the same figures in CSV and JSON Lines; --json; stdin; a
# header with a missing column; an unreadable file (66); usage (64).
BUILD=${BUILD:-build}
CTL="$BUILD/liqmonctl"
FX=tests/fixtures/positions
TIERS=conf/instruments
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

for f in "$FX/good.csv" "$FX/good.jsonl" conf/examples/positions.csv \
         conf/examples/positions.jsonl; do
    "$CTL" positions check --tiers "$TIERS" "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
       grep -q '^rows [0-9]*  loaded [0-9]*  rejected 0$' "$tmp/out"; then
        ok "positions check $f"
    else
        bad "positions check $f (exit $rc)"; cat "$tmp/err"
    fi
done

# The two formats of the same positions give the same table.
"$CTL" positions check --tiers "$TIERS" "$FX/good.csv" > "$tmp/a" 2>&1
"$CTL" positions check --tiers "$TIERS" "$FX/good.jsonl" > "$tmp/b" 2>&1
if cmp -s "$tmp/a" "$tmp/b"; then
    ok "good.csv and good.jsonl agree"
else
    bad "good.csv and good.jsonl agree"; diff "$tmp/a" "$tmp/b"
fi
"$CTL" positions check --tiers "$TIERS" conf/examples/positions.csv > "$tmp/a" 2>&1
"$CTL" positions check --tiers "$TIERS" conf/examples/positions.jsonl > "$tmp/b" 2>&1
if cmp -s "$tmp/a" "$tmp/b"; then
    ok "examples: CSV and JSON Lines agree"
else
    bad "examples: CSV and JSON Lines agree"; diff "$tmp/a" "$tmp/b"
fi
# Exact decimal totals (0.25 + 0.001; a 15-digit meme-coin qty) and the
# fully collateralised long counted as never liquidated.
"$CTL" positions check --tiers "$TIERS" "$FX/good.csv" > "$tmp/out" 2>&1
if grep -q '^binance-usdm:ETHUSDT  short  *1  *123456789012.345  *0.0011  *0.0011  *0$' "$tmp/out" &&
   grep -q '^binance-usdm:BTCUSDT  short  *2  *0.251 ' "$tmp/out" &&
   grep -q '^binance-usdm:ETHUSDT  long  *2  *2.1 .* 1$' "$tmp/out"; then
    ok "exact totals and never-liquidated count"
else
    bad "exact totals and never-liquidated count"; cat "$tmp/out"
fi

for f in bad.csv bad.jsonl; do
    "$CTL" positions check --tiers "$TIERS" "$FX/$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -eq 65 ] && cmp -s "$tmp/err" "$FX/$f.expected" &&
       grep -q '^rows [0-9]*  loaded [0-9]*  rejected [1-9]' "$tmp/out"; then
        ok "bad rows of $f reported exactly"
    else
        bad "bad rows of $f reported exactly (exit $rc)"
        diff "$FX/$f.expected" "$tmp/err"
    fi
done

# --json: one object, the same counts.
"$CTL" positions check --tiers "$TIERS" --json "$FX/bad.csv" > "$tmp/out" 2> /dev/null
rc=$?
if [ "$rc" -eq 65 ] && [ "$(wc -l < "$tmp/out")" -eq 1 ] &&
   grep -q '^{"file":"tests/fixtures/positions/bad.csv","rows":26,"loaded":4,"rejected":22,"instruments":\[' "$tmp/out" &&
   grep -q '"symbol":"XYZUSDT","tiers":null' "$tmp/out"; then
    ok "--json figures"
else
    bad "--json figures (exit $rc)"; cat "$tmp/out"
fi

# stdin: sniffed as JSON Lines from its first byte, named "stdin".
"$CTL" positions check --tiers "$TIERS" - < "$FX/bad.jsonl" > /dev/null 2> "$tmp/err"
rc=$?
sed "s|$FX/bad.jsonl|stdin|" "$FX/bad.jsonl.expected" > "$tmp/want"
if [ "$rc" -eq 65 ] && cmp -s "$tmp/err" "$tmp/want"; then
    ok "stdin"
else
    bad "stdin (exit $rc)"; diff "$tmp/want" "$tmp/err"
fi

# CRLF and a byte order mark change nothing.
printf '\357\273\277' > "$tmp/crlf.csv"
sed 's/$/\r/' "$FX/good.csv" >> "$tmp/crlf.csv"
"$CTL" positions check --tiers "$TIERS" "$FX/good.csv" > "$tmp/a" 2>&1
"$CTL" positions check --tiers "$TIERS" "$tmp/crlf.csv" > "$tmp/b" 2>&1
if cmp -s "$tmp/a" "$tmp/b"; then
    ok "CRLF with a BOM"
else
    bad "CRLF with a BOM"; diff "$tmp/a" "$tmp/b"
fi

# A header without qty: one message, exit 65.
printf 'id,venue,symbol,side,entry,margin\np1,binance-usdm,BTCUSDT,long,90000,900\n' > "$tmp/nohdr.csv"
"$CTL" positions check --tiers "$TIERS" "$tmp/nohdr.csv" > /dev/null 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 65 ] &&
   [ "$(cat "$tmp/err")" = "liqmonctl: $tmp/nohdr.csv:1: header: missing column 'qty'" ]; then
    ok "missing column"
else
    bad "missing column (exit $rc)"; cat "$tmp/err"
fi

# Margin rows without any instrument directory.
root=$(pwd)
case $CTL in /*) ctl_abs=$CTL ;; *) ctl_abs="$root/$CTL" ;; esac
(cd "$tmp" && "$ctl_abs" positions check "$root/$FX/good.csv") > /dev/null 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 65 ] && grep -q 'margin: no tier table for binance-usdm:BTCUSDT (no instrument directory; give --tiers DIR)' "$tmp/err"; then
    ok "no instrument directory"
elif [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then
    ok "no instrument directory # an installed copy supplied the tiers"
else
    bad "no instrument directory (exit $rc)"; cat "$tmp/err"
fi

# An empty file is zero positions, not an error.
: > "$tmp/empty.csv"
"$CTL" positions check --tiers "$TIERS" "$tmp/empty.csv" > "$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "rows 0  loaded 0  rejected 0" ]; then
    ok "empty file"
else
    bad "empty file (exit $rc)"; cat "$tmp/out"
fi

"$CTL" positions check /nonexistent/pos.csv > /dev/null 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 66 ] &&
   [ "$(cat "$tmp/err")" = "liqmonctl: /nonexistent/pos.csv: No such file or directory" ]; then
    ok "missing file exits 66"
else
    bad "missing file exits 66 (exit $rc)"; cat "$tmp/err"
fi
"$CTL" positions check > /dev/null 2>&1
[ $? -eq 64 ] && ok "no FILE exits 64" || bad "no FILE exits 64"
"$CTL" positions frob x.csv > /dev/null 2>&1
[ $? -eq 64 ] && ok "unknown subcommand exits 64" || bad "unknown subcommand exits 64"
"$CTL" positions check --tiers > /dev/null 2>&1
[ $? -eq 64 ] && ok "--tiers without DIR exits 64" || bad "--tiers without DIR exits 64"
exit $fail
