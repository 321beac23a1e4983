#!/bin/sh
# liqmonctl positions check: the good fixtures and examples load (exit 0,
# nothing on stderr); every bad row of bad.csv / bad.jsonl is reported
# with exactly the lines in its .expected file (exit 65, figures still
# printed); the same figures in CSV and JSON Lines; --json; stdin; a
# header with a missing column; spreadsheet CSV (every field quoted,
# commas and "" inside, CRLF, a BOM); files with no positions (65);
# --config: rows of instruments the config does not watch (65), FILE from
# the config, a bad config (78), a missing one (66); an unreadable file
# (66); usage (64).
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

# The .expected files predate two changes: every line of a command now
# starts "liqmonctl positions check: " (cli.h), and quoted CSV fields are
# read (bad.csv line 26, "BTCUSDT" quoted, is a good row now).
want_of() {
    sed -e 's/^liqmonctl: /liqmonctl positions check: /' \
        -e '/bad\.csv:26: symbol: quoted fields are not supported/d' "$1"
}
for f in bad.csv bad.jsonl; do
    "$CTL" positions check --tiers "$TIERS" "$FX/$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    want_of "$FX/$f.expected" > "$tmp/want"
    if [ "$rc" -eq 65 ] && cmp -s "$tmp/err" "$tmp/want" &&
       grep -q '^rows [0-9]*  loaded [0-9]*  rejected [1-9]' "$tmp/out"; then
        ok "bad rows of $f reported exactly"
    else
        bad "bad rows of $f reported exactly (exit $rc)"
        diff "$tmp/want" "$tmp/err"
    fi
done

# --json: one object, the same counts.
"$CTL" positions check --tiers "$TIERS" --json "$FX/bad.csv" > "$tmp/out" 2> /dev/null
rc=$?
if [ "$rc" -eq 65 ] && [ "$(wc -l < "$tmp/out")" -eq 1 ] &&
   grep -q '^{"file":"tests/fixtures/positions/bad.csv","rows":26,"loaded":5,"rejected":21,"instruments":\[' "$tmp/out" &&
   grep -q '"symbol":"XYZUSDT","tiers":null' "$tmp/out"; then
    ok "--json figures"
else
    bad "--json figures (exit $rc)"; cat "$tmp/out"
fi

# stdin: sniffed as JSON Lines from its first byte, named "stdin".
"$CTL" positions check --tiers "$TIERS" - < "$FX/bad.jsonl" > /dev/null 2> "$tmp/err"
rc=$?
want_of "$FX/bad.jsonl.expected" | sed "s|$FX/bad.jsonl|stdin|" > "$tmp/want"
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
   [ "$(cat "$tmp/err")" = "liqmonctl positions check: $tmp/nohdr.csv:1: header: missing column 'qty'" ]; then
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

# Spreadsheet CSV: every field quoted (blanks trimmed, as an export has
# none), a note with a comma and doubled quotes, CRLF, a BOM: the same
# figures as good.csv.
printf '\357\273\277' > "$tmp/quoted.csv"
awk -F, '/^#/ || /^$/ { print; next }
    { line = ""
      for (i = 1; i <= NF; i++) {
          f = $i; gsub(/^ +| +$/, "", f)
          if (f == "explicit liq price") f = "explicit, \"liq\" price"
          gsub(/"/, "\"\"", f)
          line = line (i > 1 ? "," : "") "\"" f "\""
      }
      print line }' "$FX/good.csv" | sed 's/$/\r/' >> "$tmp/quoted.csv"
"$CTL" positions check --tiers "$TIERS" "$FX/good.csv" > "$tmp/a" 2>&1
"$CTL" positions check --tiers "$TIERS" "$tmp/quoted.csv" > "$tmp/b" 2>&1
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/a" "$tmp/b" &&
   grep -q '^"symbol","venue","id",' "$tmp/quoted.csv" &&
   grep -q '"explicit, ""liq"" price"' "$tmp/quoted.csv"; then
    ok "quoted CSV (a spreadsheet export) reads as the plain one"
else
    bad "quoted CSV (exit $rc)"; diff "$tmp/a" "$tmp/b"
fi
# Quoting gone wrong: one message per row, with file, line and column.
printf 'id,venue,symbol,side,qty,entry,margin\n"a"x,binance-usdm,BTCUSDT,long,1,90000,900\n"b,binance-usdm,BTCUSDT,long,1,90000,900\nok,binance-usdm,BTCUSDT,long,1,90000,900\n' > "$tmp/badq.csv"
"$CTL" positions check --tiers "$TIERS" "$tmp/badq.csv" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 65 ] && [ "$(wc -l < "$tmp/err")" -eq 2 ] &&
   grep -q "^liqmonctl positions check: $tmp/badq.csv:2: id: '\"a\"x': text after the closing quote" "$tmp/err" &&
   grep -q "^liqmonctl positions check: $tmp/badq.csv:3: id: .*: a quoted field without its closing quote" "$tmp/err" &&
   grep -q '^rows 3  loaded 1  rejected 2$' "$tmp/out"; then
    ok "bad quoting reported per row"
else
    bad "bad quoting (exit $rc)"; cat "$tmp/err" "$tmp/out"
fi

# No positions at all: an error (the daemon would watch nothing).
: > "$tmp/empty.csv"
printf 'id,venue,symbol,side,qty,entry,margin\r\n' > "$tmp/header.csv"
printf '# nothing yet\n\n' > "$tmp/comments.csv"
printf '\n  \r\n' > "$tmp/blank.jsonl"
for c in "empty.csv:the file is empty" "header.csv:a header on line 1, no rows" \
         "comments.csv:only blank and comment lines" \
         "blank.jsonl:only blank and comment lines"; do
    f=${c%%:*}; why=${c#*:}
    "$CTL" positions check --tiers "$TIERS" "$tmp/$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -eq 65 ] &&
       [ "$(cat "$tmp/err")" = "liqmonctl positions check: $tmp/$f: no positions ($why)" ] &&
       [ "$(cat "$tmp/out")" = "rows 0  loaded 0  rejected 0" ]; then
        ok "no positions: $f exits 65"
    else
        bad "no positions: $f (exit $rc)"; cat "$tmp/err" "$tmp/out"
    fi
done
"$CTL" positions check - < "$tmp/header.csv" > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 65 ] && grep -qx 'liqmonctl positions check: stdin: no positions (a header on line 1, no rows)' "$tmp/err" &&
    ok "no positions on stdin" || { bad "no positions on stdin (exit $rc)"; cat "$tmp/err"; }

# --config: check against what a liqmond config watches.
cat > "$tmp/w.conf" <<EOF
[daemon]
instruments_dir = $(pwd)/conf/instruments
positions = $tmp/watched.csv
[venue binance-usdm]
symbols = BTCUSDT
[venue okx-swap]
symbols = BTC-USDT-SWAP
EOF
cat > "$tmp/watched.csv" <<EOF
id,venue,symbol,side,qty,entry,margin,liq_price
w1,binance-usdm,BTCUSDT,long,1,90000,900,
w2,binance-usdm,ETHUSDT,long,1,3000,,2800
w3,okx-swap,BTCUSDT,long,1,90000,,80000
w4,bybit-linear,BTCUSDT,short,1,90000,,95000
w5,kraken,BTCUSDT,short,1,90000,,95000
w6,okx-swap,BTC-USDT-SWAP,short,1,90000,,95000
w7,binance-usdm,ETHUSDT,short,1,3000,,3200
EOF
"$CTL" positions check --config "$tmp/w.conf" "$tmp/watched.csv" > "$tmp/out" 2> "$tmp/err"
rc=$?
P="liqmonctl positions check: $tmp/watched.csv"
cat > "$tmp/want" <<EOF
$P:3: venue, symbol: binance-usdm:ETHUSDT is not watched by $tmp/w.conf ([venue binance-usdm] symbols: BTCUSDT)
$P:4: venue, symbol: okx-swap:BTCUSDT is not watched by $tmp/w.conf ([venue okx-swap] symbols: BTC-USDT-SWAP)
$P:5: venue, symbol: bybit-linear:BTCUSDT is not watched by $tmp/w.conf (no [venue bybit-linear] section)
$P:6: venue, symbol: kraken:BTCUSDT is not watched by $tmp/w.conf (no venue 'kraken'; liqmond knows binance-usdm, bybit-linear, okx-swap or hyperliquid)
$P:8: venue, symbol: binance-usdm:ETHUSDT is not watched by $tmp/w.conf ([venue binance-usdm] symbols: BTCUSDT)
EOF
if [ $rc -eq 65 ] && cmp -s "$tmp/err" "$tmp/want" &&
   grep -q '^rows 7  loaded 2  rejected 5$' "$tmp/out" &&
   grep -q '^binance-usdm:BTCUSDT  *long  *1 ' "$tmp/out" &&
   grep -q '^okx-swap:BTC-USDT-SWAP  *short  *1 ' "$tmp/out" &&
   ! grep -q 'ETHUSDT' "$tmp/out"; then
    ok "--config: every row of an unwatched instrument is an error"
else
    bad "--config: unwatched rows (exit $rc)"; diff "$tmp/want" "$tmp/err"; cat "$tmp/out"
fi
# Without --config the same file is fine (syntax and tiers only).
"$CTL" positions check --tiers "$TIERS" "$tmp/watched.csv" > /dev/null 2>&1
[ $? -eq 0 ] && ok "without --config: syntax and tiers only" || bad "without --config"
# FILE defaults to the config's positions; its tiers come from the config.
"$CTL" positions check --config "$tmp/w.conf" > "$tmp/out2" 2> "$tmp/err2"
rc=$?
[ $rc -eq 65 ] && cmp -s "$tmp/err" "$tmp/err2" && cmp -s "$tmp/out" "$tmp/out2" &&
    ok "--config: FILE from the config" || { bad "--config: FILE from the config (exit $rc)"; cat "$tmp/err2"; }
# A margin row takes its tier table from the config's instruments_dir.
sed "s|^instruments_dir = .*|instruments_dir = $tmp/noinst|" "$tmp/w.conf" > "$tmp/w2.conf"
printf 'id,venue,symbol,side,qty,entry,margin\nm1,binance-usdm,BTCUSDT,long,1,90000,900\n' > "$tmp/m.csv"
"$CTL" positions check --config "$tmp/w2.conf" "$tmp/m.csv" > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 65 ] && grep -q "m.csv:2: margin: no tier table for binance-usdm:BTCUSDT (looked for $tmp/noinst/binance-usdm-BTCUSDT.json)" "$tmp/err" &&
    ok "--config: tiers from its instruments_dir" || { bad "--config: tiers from its instruments_dir (exit $rc)"; cat "$tmp/err"; }
# The repository's own config watches the example positions.
"$CTL" positions check --config conf/liqmond.conf conf/examples/positions.csv > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && ok "--config conf/liqmond.conf: examples watched" ||
    { bad "--config conf/liqmond.conf (exit $rc)"; cat "$tmp/err"; }
# A config that does not parse: 78, its own message; one that is not there: 66.
printf '[daemon]\nfrobnicate = 1\n' > "$tmp/bad.conf"
"$CTL" positions check --config "$tmp/bad.conf" "$tmp/watched.csv" > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 78 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "^liqmonctl positions check: --config: $tmp/bad.conf:2: " "$tmp/err" && [ ! -s "$tmp/out" ] &&
    ok "--config: a bad config exits 78" || { bad "--config: bad config (exit $rc)"; cat "$tmp/err"; }
"$CTL" positions check --config "$tmp/none.conf" "$tmp/watched.csv" > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 66 ] && [ "$(cat "$tmp/err")" = "liqmonctl positions check: --config $tmp/none.conf: No such file or directory" ] &&
    ok "--config: a missing config exits 66" || { bad "--config: missing config (exit $rc)"; cat "$tmp/err"; }

"$CTL" positions check /nonexistent/pos.csv > /dev/null 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 66 ] &&
   [ "$(cat "$tmp/err")" = "liqmonctl positions check: /nonexistent/pos.csv: No such file or directory" ]; then
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
