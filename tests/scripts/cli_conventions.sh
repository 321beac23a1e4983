#!/bin/sh
# cli_conventions.sh - one convention for liqmonctl's commands and
# liqmon-venue (src/cli/cli.h): sysexits codes, getopt_long command lines,
# --help on every (sub)command (exit 0, usage on stdout, nothing on
# stderr), '-' for stdin wherever a FILE is read, and exactly one line on
# stderr per mistake, worded the same for the same mistake everywhere.
#
# The table: one case per line, "CODE ;; REGEX ;; COMMAND LINE".  The
# command line is split as the shell would (quotes work); it starts with
# liqmonctl or liqmon-venue; @T@ is a scratch directory, @CAP@ a capture.
# Each case must exit CODE with exactly one line on stderr matching REGEX
# (grep -E, whole line); usage errors (64) must print nothing on stdout.
BUILD=${BUILD:-build}
CTL="$BUILD/liqmonctl"
V="$BUILD/liqmon-venue"
CAP=tests/fixtures/captures/vsim-4venues.jsonl.gz
tmp=$(mktemp -d)
vpid=
trap '[ -n "$vpid" ] && kill "$vpid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

# ---- inputs the table refers to ----------------------------------------------
printf 'id,venue,symbol,side,qty,entry,margin\n' > "$tmp/header.csv"
printf 'id,venue,symbol,side,qty,entry,liq_price\np1,binance-usdm,BTCUSDT,long,1,90000,80000\n' > "$tmp/pos.csv"
printf 'id,venue,symbol,side,qty,entry,liq_price\np1,binance-usdm,SOLUSDT,long,1,150,140\n' > "$tmp/sol.csv"
printf '[daemon]\nfrobnicate = 1\n' > "$tmp/bad.conf"
printf '[daemon]\ninstruments_dir = %s/conf/instruments\n[venue binance-usdm]\nsymbols = BTCUSDT\n' "$(pwd)" > "$tmp/w.conf"
printf 'not a database, just text\n' > "$tmp/text.db"
python3 - "$CAP" "$tmp/corrupt.jsonl.gz" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
for i in range(5000, 5064):
    d[i] ^= 0xa5
open(sys.argv[2], 'wb').write(d)
EOF
mkdir "$tmp/dir"

# run_case CODE REGEX ARGS...: run, check, report.
run_case() {
    code=$1 re=$2
    shift 2
    prog=$1
    shift
    case $prog in
        liqmonctl) bin=$CTL ;;
        liqmon-venue) bin=$V ;;
        *) bad "table: unknown program $prog"; return ;;
    esac
    "$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    rc=$?
    n=$(wc -l < "$tmp/err")
    if [ "$rc" -ne "$code" ]; then
        bad "$prog $*: exit $rc, want $code"; cat "$tmp/err"
    elif [ "$n" -ne 1 ]; then
        bad "$prog $*: $n lines on stderr, want 1"; cat "$tmp/err"
    elif ! grep -Eqx -- "$re" "$tmp/err"; then
        bad "$prog $*: stderr"; echo "#   want: $re"; echo "#   got:  $(cat "$tmp/err")"
    elif [ "$code" -eq 64 ] && [ -s "$tmp/out" ]; then
        bad "$prog $*: a usage error printed on stdout"
    else
        ok "$prog $* -> $code"
    fi
}

while IFS= read -r line; do
    case $line in ''|'#'*) continue ;; esac
    code=${line%% ;; *}
    rest=${line#* ;; }
    re=${rest%% ;; *}
    cmd=${rest#* ;; }
    cmd=$(printf '%s' "$cmd" | sed -e "s|@T@|$tmp|g" -e "s|@CAP@|$CAP|g")
    re=$(printf '%s' "$re" | sed -e "s|@T@|$tmp|g")
    eval "set -- $cmd"
    run_case "$code" "$re" "$@"
done <<'EOF'
# ---- the command itself
64 ;; liqmonctl: missing COMMAND \(see liqmonctl --help\) ;; liqmonctl
64 ;; liqmonctl: unknown command 'frobnicate' \(see liqmonctl --help\) ;; liqmonctl frobnicate
64 ;; liqmonctl: unknown option '--frobnicate' \(see liqmonctl --help\) ;; liqmonctl --frobnicate sim x
64 ;; liqmonctl: --version: takes no value \(see liqmonctl --help\) ;; liqmonctl --version=2

# ---- the same mistake, the same words: an unknown option
64 ;; liqmonctl sim: unknown option '--frobnicate' \(see liqmonctl sim --help\) ;; liqmonctl sim --frobnicate x.json
64 ;; liqmonctl positions: unknown option '--frobnicate' \(see liqmonctl positions --help\) ;; liqmonctl positions --frobnicate check
64 ;; liqmonctl positions check: unknown option '--frobnicate' \(see liqmonctl positions check --help\) ;; liqmonctl positions check --frobnicate x.csv
64 ;; liqmonctl replay: unknown option '--frobnicate' \(see liqmonctl replay --help\) ;; liqmonctl replay --frobnicate @CAP@
64 ;; liqmonctl alerts: unknown option '--frobnicate' \(see liqmonctl alerts --help\) ;; liqmonctl alerts --frobnicate
64 ;; liqmonctl timeline: unknown option '--frobnicate' \(see liqmonctl timeline --help\) ;; liqmonctl timeline --frobnicate
64 ;; liqmonctl snapshots: unknown option '--frobnicate' \(see liqmonctl snapshots --help\) ;; liqmonctl snapshots --frobnicate
64 ;; liqmonctl stats: unknown option '--frobnicate' \(see liqmonctl stats --help\) ;; liqmonctl stats --frobnicate
64 ;; liqmon-venue: unknown option '--frobnicate' \(see liqmon-venue --help\) ;; liqmon-venue --generate --frobnicate
64 ;; liqmonctl alerts: ambiguous option '--s' \(see liqmonctl alerts --help\) ;; liqmonctl alerts --s x
64 ;; liqmon-venue: ambiguous option '--crash' \(see liqmon-venue --help\) ;; liqmon-venue --generate --crash 5
64 ;; liqmonctl sim: unknown option '-z' \(see liqmonctl sim --help\) ;; liqmonctl sim -z x.json
64 ;; liqmon-venue: unknown option '-z' \(see liqmon-venue --help\) ;; liqmon-venue --generate -z

# ---- a flag given a value
64 ;; liqmonctl sim: --json: takes no value \(see liqmonctl sim --help\) ;; liqmonctl sim --json=yes x.json
64 ;; liqmonctl positions check: --json: takes no value \(see liqmonctl positions check --help\) ;; liqmonctl positions check --json=yes x.csv
64 ;; liqmonctl replay: --json: takes no value \(see liqmonctl replay --help\) ;; liqmonctl replay --json=yes @CAP@
64 ;; liqmonctl alerts: --json: takes no value \(see liqmonctl alerts --help\) ;; liqmonctl alerts --json=yes
64 ;; liqmonctl stats: --json: takes no value \(see liqmonctl stats --help\) ;; liqmonctl stats --json=yes
64 ;; liqmon-venue: --loop: takes no value \(see liqmon-venue --help\) ;; liqmon-venue --generate --loop=yes

# ---- an option without its value (at the end, empty, or followed by another option)
64 ;; liqmonctl positions check: --tiers: missing value \(see liqmonctl positions check --help\) ;; liqmonctl positions check x.csv --tiers
64 ;; liqmonctl positions check: --config: missing value \(see liqmonctl positions check --help\) ;; liqmonctl positions check --config --json x.csv
64 ;; liqmonctl replay: --instruments: missing value \(see liqmonctl replay --help\) ;; liqmonctl replay --instruments= @CAP@
64 ;; liqmonctl replay: --speed: missing value \(see liqmonctl replay --help\) ;; liqmonctl replay @CAP@ --speed
64 ;; liqmonctl alerts: --since: missing value \(see liqmonctl alerts --help\) ;; liqmonctl alerts --since --json
64 ;; liqmonctl timeline: --instrument: missing value \(see liqmonctl timeline --help\) ;; liqmonctl timeline --instrument
64 ;; liqmonctl snapshots: --store: missing value \(see liqmonctl snapshots --help\) ;; liqmonctl snapshots --store
64 ;; liqmonctl stats: --store: missing value \(see liqmonctl stats --help\) ;; liqmonctl stats --store=
64 ;; liqmon-venue: --port: missing value \(see liqmon-venue --help\) ;; liqmon-venue --generate --port
64 ;; liqmon-venue: --play: missing value \(see liqmon-venue --help\) ;; liqmon-venue --play --speed 2

# ---- a missing operand
64 ;; liqmonctl sim: missing FILE \(see liqmonctl sim --help\) ;; liqmonctl sim --trace
64 ;; liqmonctl positions: missing SUBCOMMAND \(see liqmonctl positions --help\) ;; liqmonctl positions
64 ;; liqmonctl positions check: missing FILE \(see liqmonctl positions check --help\) ;; liqmonctl positions check --json
64 ;; liqmonctl replay: missing FILE \(see liqmonctl replay --help\) ;; liqmonctl replay --json
64 ;; liqmonctl timeline: missing --instrument VENUE:SYMBOL \(see liqmonctl timeline --help\) ;; liqmonctl timeline --store @T@/none.db
64 ;; liqmonctl snapshots: missing --instrument VENUE:SYMBOL \(see liqmonctl snapshots --help\) ;; liqmonctl snapshots --rows
64 ;; liqmon-venue: missing --generate or --play FILE \(see liqmon-venue --help\) ;; liqmon-venue --port 0

# ---- an operand too many
64 ;; liqmonctl sim: unexpected argument 'b.json' \(see liqmonctl sim --help\) ;; liqmonctl sim a.json b.json
64 ;; liqmonctl positions check: unexpected argument 'b.csv' \(see liqmonctl positions check --help\) ;; liqmonctl positions check a.csv b.csv
64 ;; liqmonctl alerts: unexpected argument 'stray' \(see liqmonctl alerts --help\) ;; liqmonctl alerts stray
64 ;; liqmonctl stats: unexpected argument 'stray' \(see liqmonctl stats --help\) ;; liqmonctl stats stray
64 ;; liqmon-venue: unexpected argument 'stray' \(see liqmon-venue --help\) ;; liqmon-venue --generate stray
64 ;; liqmonctl positions: unknown subcommand 'frob' \(see liqmonctl positions --help\) ;; liqmonctl positions frob x.csv
64 ;; liqmonctl replay: '-' \(stdin\) given twice \(see liqmonctl replay --help\) ;; liqmonctl replay - -

# ---- a value out of range: what is expected, and what was given
64 ;; liqmonctl replay: --speed: must be a number > 0 \(got 'x'\) ;; liqmonctl replay --speed x @CAP@
64 ;; liqmonctl replay: --speed: must be a number > 0 \(got '0'\) ;; liqmonctl replay --speed=0 @CAP@
64 ;; liqmonctl replay: --speed: must be a number > 0 \(got '-2'\) ;; liqmonctl replay --speed -2 @CAP@
64 ;; liqmonctl alerts: --limit: must be an integer > 0 \(got '0'\) ;; liqmonctl alerts --limit 0
64 ;; liqmonctl alerts: --run: must be a run id, an integer > 0 that liqmonctl stats lists \(got 'first'\) ;; liqmonctl alerts --run first
64 ;; liqmonctl alerts: --severity: must be warning or critical \(got 'info'\) ;; liqmonctl alerts --severity info
64 ;; liqmonctl alerts: --state: must be firing or resolved \(got 'open'\) ;; liqmonctl alerts --state open
64 ;; liqmonctl alerts: --since: not a time: 'yesterday' \(.*\) ;; liqmonctl alerts --since yesterday
64 ;; liqmon-venue: --port: must be 0..65535 \(got '99999'\) ;; liqmon-venue --port 99999
64 ;; liqmon-venue: --port: must be 0..65535 \(got 'http'\) ;; liqmon-venue --generate --port http
64 ;; liqmon-venue: --speed: must be a number >= 0 \(got 'x'\) ;; liqmon-venue --play @CAP@ --speed x
64 ;; liqmon-venue: --crash-pct: must be a number > 0 and < 100 \(got '120'\) ;; liqmon-venue --generate --crash-pct 120
64 ;; liqmon-venue: --seed: must be an integer >= 0 \(got 'abc'\) ;; liqmon-venue --generate --seed abc
64 ;; liqmon-venue: --wait-clients: must be 0..1000000 \(got '1.5'\) ;; liqmon-venue --play @CAP@ --wait-clients 1.5
64 ;; liqmon-venue: --okx-checksum: must be zero or crc \(got 'md5'\) ;; liqmon-venue --generate --okx-checksum md5
64 ;; liqmon-venue: --binance-liq-route: must be market or public \(got 'ws'\) ;; liqmon-venue --generate --binance-liq-route ws
64 ;; liqmon-venue: --generate and --play: give one \(see liqmon-venue --help\) ;; liqmon-venue --generate --play @CAP@
64 ;; liqmon-venue: --tls: needs --cert and --key \(see liqmon-venue --help\) ;; liqmon-venue --generate --tls

# ---- 65: the input is bad
65 ;; liqmonctl sim: tests/fixtures/bad/bad-tier/input.json: tiers\[0\]\.mmr: must be in \[0, 1\) ;; liqmonctl sim tests/fixtures/bad/bad-tier/input.json
65 ;; liqmonctl positions check: @T@/header.csv: no positions \(a header on line 1, no rows\) ;; liqmonctl positions check --json @T@/header.csv
65 ;; liqmonctl positions check: @T@/sol.csv:2: venue, symbol: binance-usdm:SOLUSDT is not watched by @T@/w.conf \(\[venue binance-usdm\] symbols: BTCUSDT\) ;; liqmonctl positions check --json --config @T@/w.conf @T@/sol.csv
65 ;; liqmonctl replay: @T@/corrupt.jsonl.gz: .* ;; liqmonctl replay --json @T@/corrupt.jsonl.gz
65 ;; liqmonctl stats: @T@/text.db: not a liqmon store .* ;; liqmonctl stats --store @T@/text.db

# ---- 66: an input cannot be opened
66 ;; liqmonctl sim: /nonexistent/x.json: No such file or directory ;; liqmonctl sim /nonexistent/x.json
66 ;; liqmonctl positions check: /nonexistent/p.csv: No such file or directory ;; liqmonctl positions check /nonexistent/p.csv
66 ;; liqmonctl positions check: --tiers /nonexistent: No such file or directory ;; liqmonctl positions check --tiers /nonexistent @T@/pos.csv
66 ;; liqmonctl positions check: --config /nonexistent.conf: No such file or directory ;; liqmonctl positions check --config /nonexistent.conf @T@/pos.csv
66 ;; liqmonctl replay: /nonexistent.jsonl: No such file or directory ;; liqmonctl replay /nonexistent.jsonl
66 ;; liqmonctl replay: @T@/dir: is a directory ;; liqmonctl replay @T@/dir
66 ;; liqmonctl replay: --instruments /nonexistent: No such file or directory ;; liqmonctl replay --instruments /nonexistent @CAP@
66 ;; liqmonctl alerts: /nonexistent/liqmon.db: .* ;; liqmonctl alerts --store /nonexistent/liqmon.db
66 ;; liqmon-venue: --play /nonexistent.jsonl: No such file or directory ;; liqmon-venue --play /nonexistent.jsonl
66 ;; liqmon-venue: --cert /nonexistent.crt: No such file or directory ;; liqmon-venue --generate --tls --cert /nonexistent.crt --key /nonexistent.key

# ---- 78: the configuration is bad
78 ;; liqmonctl positions check: --config: @T@/bad.conf:2: .* ;; liqmonctl positions check --config @T@/bad.conf @T@/pos.csv
EOF

# ---- --help: every command and subcommand, exit 0, usage on stdout ------------
while IFS= read -r line; do
    [ -n "$line" ] || continue
    eval "set -- $line"
    prog=$1
    shift
    case $prog in liqmonctl) bin=$CTL ;; *) bin=$V ;; esac
    "$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && head -n 1 "$tmp/out" | grep -q '^usage: '; then
        ok "$prog $* -> 0, usage on stdout"
    else
        bad "$prog $* (exit $rc)"; head -n 3 "$tmp/out"; cat "$tmp/err"
    fi
done <<'EOF'
liqmonctl --help
liqmonctl -h
liqmonctl help
liqmonctl sim --help
liqmonctl sim -h
liqmonctl sim x.json --help
liqmonctl positions --help
liqmonctl positions check --help
liqmonctl positions check --json -h x.csv
liqmonctl replay --help
liqmonctl replay @CAP@ --help
liqmonctl alerts --help
liqmonctl timeline --help
liqmonctl snapshots --help
liqmonctl stats --help
liqmon-venue --help
liqmon-venue -h
EOF
"$CTL" --version > "$tmp/out" 2>&1 && grep -q '^liqmonctl [0-9]' "$tmp/out" && ok "liqmonctl --version" ||
    bad "liqmonctl --version"
# Every --help says what the exit codes are.
for c in "" sim "positions check" replay alerts timeline snapshots stats; do
    # shellcheck disable=SC2086
    "$CTL" $c --help | grep -q 'Exit status' && ok "liqmonctl $c --help: exit status documented" ||
        bad "liqmonctl $c --help: no exit status"
done
"$V" --help | grep -q 'Exit status' && ok "liqmon-venue --help: exit status documented" ||
    bad "liqmon-venue --help: no exit status"

# ---- '-' is stdin wherever a FILE is read -----------------------------------------
"$CTL" sim - < tests/fixtures/scenarios/contract-example.json > "$tmp/out" 2> "$tmp/err" &&
    cmp -s "$tmp/out" tests/fixtures/scenarios/contract-example.expected &&
    ok "sim -: stdin" || { bad "sim -"; cat "$tmp/err"; }
"$CTL" positions check --tiers conf/instruments - < "$tmp/pos.csv" > "$tmp/out" 2> "$tmp/err" &&
    grep -q '^rows 1  loaded 1  rejected 0$' "$tmp/out" && ok "positions check -: stdin" ||
    { bad "positions check -"; cat "$tmp/err"; }
"$CTL" replay --json - < "$CAP" > "$tmp/out" 2> "$tmp/err" &&
    grep -q '^{"frames":358,' "$tmp/out" && ok "replay -: stdin" || { bad "replay -"; cat "$tmp/err"; }

# ---- options in any order, abbreviations, "--" -------------------------------------
"$CTL" sim tests/fixtures/scenarios/contract-example.json --json > "$tmp/out" 2>&1 &&
    cmp -s "$tmp/out" tests/fixtures/scenarios/contract-example.expected &&
    ok "options after the operand" || bad "options after the operand"
"$CTL" positions check --ti conf/instruments --js "$tmp/pos.csv" > "$tmp/out" 2>&1 &&
    grep -q '^{"file":' "$tmp/out" && ok "unambiguous abbreviations" || { bad "abbreviations"; cat "$tmp/out"; }
cp tests/fixtures/scenarios/contract-example.json "$tmp/--json"
case $CTL in /*) ctl_abs=$CTL ;; *) ctl_abs="$(pwd)/$CTL" ;; esac
(cd "$tmp" && "$ctl_abs" sim -- --json) > "$tmp/out" 2>&1 &&
    cmp -s "$tmp/out" tests/fixtures/scenarios/contract-example.expected &&
    ok "-- ends the options" || { bad "-- ends the options"; cat "$tmp/out"; }

# ---- 69: liqmon-venue cannot listen (the port is taken) -----------------------------
"$V" --generate --port 0 > "$tmp/v1.out" 2> "$tmp/v1.err" &
vpid=$!
port=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    port=$(sed -n 's/^liqmon-venue: listening on [^:]*:\([0-9]*\) .*/\1/p' "$tmp/v1.out")
    [ -n "$port" ] && break
    sleep 0.25
done
if [ -n "$port" ]; then
    "$V" --generate --port "$port" > /dev/null 2> "$tmp/err"
    rc=$?
    if [ $rc -eq 69 ] && [ "$(wc -l < "$tmp/err")" -ge 1 ] &&
       grep -q "^liqmon-venue: cannot listen on 127.0.0.1:$port " "$tmp/err"; then
        ok "liqmon-venue on a taken port exits 69"
    else
        bad "liqmon-venue on a taken port (exit $rc)"; cat "$tmp/err"
    fi
else
    bad "liqmon-venue did not start"; cat "$tmp/v1.err"
fi
kill "$vpid" 2>/dev/null
wait "$vpid" 2>/dev/null
vpid=
exit $fail
