#!/bin/sh
# make install / uninstall into a scratch DESTDIR, from a scratch BUILD (the
# binaries the other script tests use in $BUILD are never touched):
#   PREFIX=/usr: every file in place with its mode; the binaries embed
#   /usr/share/liqmon and nothing installed but the docs says /usr/local;
#   the unit and example config carry the real paths; the installed
#   liqmond -t -c accepts the installed config (its paths moved into the
#   scratch dir); systemd-analyze verify accepts the installed unit (in a
#   --root holding the install, Debian's own units and /bin/kill);
#   logrotate -d on the installed logrotate file, and two forced rotations
#   of a copy pointed into the scratch dir; a second install keeps an
#   edited liqmond.conf.
#   PREFIX=/usr/local into the same BUILD: what embeds the data directory is
#   rebuilt, the unit goes to /usr/local/lib/systemd/system, and verify
#   accepts it there too; a third run rebuilds nothing.
#   make uninstall removes all but liqmond.conf and logrotate.d/liqmond.
BUILD=${BUILD:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX") || exit 1
fail=0
ok() { echo "ok - install: $1"; }
bad() { echo "not ok - install: $1"; fail=1; }
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# A plain make of its own, whatever make (make asan) ran this script.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
MK="${MAKE:-make} -s -j$(nproc 2>/dev/null || echo 2) BUILD=$tmp/build"
R=$tmp/root

# ---- PREFIX=/usr ----------------------------------------------------------
if ! $MK install DESTDIR="$R" PREFIX=/usr > "$tmp/i1.out" 2>&1; then
    bad "make install PREFIX=/usr failed"
    tail -20 "$tmp/i1.out"
    exit 1
fi
grep -q "installed the example as liqmond.conf" "$tmp/i1.out" \
    && ok "first install: liqmond.conf installed from the example (and said so)" \
    || bad "first install did not say it installed liqmond.conf"

# mode PATH: the file's octal mode, or "missing"
mode() { [ -f "$1" ] && stat -c %a "$1" || echo missing; }
want() {        # want MODE FILE...
    m=$1
    shift
    for f in "$@"; do
        got=$(mode "$R$f")
        [ "$got" = "$m" ] || { bad "$f: mode $got, want $m"; return 1; }
    done
}
n0=$fail
want 755 /usr/bin/liqmond /usr/bin/liqmonctl /usr/bin/liqmon-venue
want 644 /lib/systemd/system/liqmond.service \
    /etc/liqmon/liqmond.conf /etc/liqmon/liqmond.conf.example \
    /etc/logrotate.d/liqmond /usr/share/doc/liqmon/README.md
for f in conf/instruments/*.json; do want 644 "/usr/share/liqmon/instruments/${f##*/}"; done
for f in conf/examples/*; do want 644 "/usr/share/liqmon/examples/${f##*/}"; done
for f in docs/*.md docs/*.sql; do want 644 "/usr/share/doc/liqmon/${f##*/}"; done
[ $fail -eq $n0 ] && ok "every file in place with its mode ($(find "$R" -type f | wc -l) files)"
[ -z "$(find "$R" -type f \( -perm /0022 -o -perm /6000 \) | head -1)" ] \
    || bad "group/other-writable or set-id files installed"

# the paths, everywhere
for b in liqmond liqmonctl; do
    strings "$R/usr/bin/$b" | grep -qx '/usr/share/liqmon' \
        && ok "$b embeds /usr/share/liqmon" \
        || bad "$b does not embed /usr/share/liqmon: $(strings "$R/usr/bin/$b" | grep share/liqmon)"
done
hits=$(grep -rl /usr/local "$R/usr/bin" "$R/lib" "$R/etc" 2>/dev/null)
[ -z "$hits" ] && ok "no /usr/local in the installed binaries, unit and configs" \
    || bad "/usr/local still in: $hits"
U=$R/lib/systemd/system/liqmond.service
grep -q '@[A-Z]*@' "$U" "$R/etc/liqmon/liqmond.conf.example" \
    && bad "unsubstituted @VAR@ left: $(grep -h '@[A-Z]*@' "$U" "$R/etc/liqmon/liqmond.conf.example")"
grep -qx 'ExecStart=/usr/bin/liqmond -c /etc/liqmon/liqmond.conf' "$U" \
    && grep -qx 'ExecStartPre=/usr/bin/liqmond -t -c /etc/liqmon/liqmond.conf' "$U" \
    && grep -qx 'Type=notify' "$U" && grep -qx 'WatchdogSec=30' "$U" \
    && ok "unit: Type=notify, ExecStartPre/ExecStart at /usr/bin" \
    || bad "unit: $(grep -E '^(Type|Exec)' "$U" | tr '\n' ' ')"
C=$R/etc/liqmon/liqmond.conf.example
grep -qx 'instruments_dir = /usr/share/liqmon/instruments' "$C" \
    && grep -qx 'log = /var/log/liqmon/alerts.jsonl' "$C" \
    && grep -qx 'path = /var/lib/liqmon/liqmon.db' "$C" \
    && ok "config: instruments_dir, [alerts] log, [store] path" \
    || bad "config: $(grep -E '^(instruments_dir|log|path) ' "$C" | tr '\n' ' ')"
cmp -s "$C" "$R/etc/liqmon/liqmond.conf" || bad "liqmond.conf differs from the example"

# the installed liqmond checks the installed config, its paths moved here
mkdir -p "$tmp/var/log/liqmon" "$tmp/var/lib/liqmon" "$tmp/etc/liqmon" "$tmp/run/liqmon"
cp "$R/usr/share/liqmon/examples/positions.csv" "$tmp/etc/liqmon/positions.csv"
sed -e "s#/usr/share/liqmon#$R/usr/share/liqmon#g" -e "s#/etc/liqmon/#$tmp/etc/liqmon/#g" \
    -e "s#/var/#$tmp/var/#g" -e "s#/run/#$tmp/run/#g" "$R/etc/liqmon/liqmond.conf" \
    > "$tmp/check.conf"
if out=$("$R/usr/bin/liqmond" -t -c "$tmp/check.conf" 2>&1); then
    ok "installed liqmond -t -c: $out"
else
    bad "installed liqmond -t -c on the installed config: $out"
fi

# systemd-analyze verify, offline.  The unit's commands must exist under
# --root, and so must the units it names (sysinit.target, ...): a root of
# the install, Debian's unit directory and /bin/kill (ExecReload).  Verify
# warns and still exits 0 (an unknown key, a Type= this systemd lacks):
# any output fails.
# verify ROOT UNIT-PATH-UNDER-ROOT
verify() {
    V=$tmp/vroot
    rm -rf "$V"
    cp -a "$1" "$V"
    mkdir -p "$V/usr/lib/systemd" "$V/bin"
    cp -a /usr/lib/systemd/system "$V/usr/lib/systemd/" 2>/dev/null \
        || cp -a /lib/systemd/system "$V/usr/lib/systemd/"
    cp /bin/kill "$V/bin/kill"
    out=$(systemd-analyze verify --man=no --root="$V" "$2" 2>&1)
    vrc=$?
    echo "# systemd-analyze verify --man=no --root=\$tmp/vroot $2: exit $vrc${out:+, said:}"
    [ -z "$out" ] || echo "$out" | sed 's/^/#   /'
    [ $vrc -eq 0 ] && [ -z "$out" ]
}
if ! command -v systemd-analyze > /dev/null; then
    bad "no systemd-analyze (Debian package systemd: sh scripts/install-deps.sh)"
elif verify "$R" /lib/systemd/system/liqmond.service; then
    ok "systemd-analyze verify accepts the installed unit ($(systemctl --version | head -1))"
else
    bad "systemd-analyze verify rejects the installed unit"
fi

# logrotate
L=$R/etc/logrotate.d/liqmond
if ! command -v logrotate > /dev/null && [ ! -x /usr/sbin/logrotate ]; then
    bad "no logrotate (sh scripts/install-deps.sh)"
else
    LR=$(command -v logrotate || echo /usr/sbin/logrotate)
    out=$("$LR" -d -s "$tmp/lr.state" "$L" 2>&1)
    if [ $? -eq 0 ] && ! echo "$out" | grep -qi 'error' \
        && echo "$out" | grep -q 'rotating pattern: /var/log/liqmon/alerts.jsonl'; then
        ok "logrotate -d accepts the installed file"
    else
        bad "logrotate -d: $out"
    fi
    # a copy on a log here, its postrotate a marker (never the host's
    # systemctl): rotate twice by force
    mkdir -p "$tmp/lr/log"
    sed -e "s#/var/log/liqmon/#$tmp/lr/log/#" \
        -e "s#^\( *\)systemctl .*#\1touch $tmp/lr/postrotate#" "$L" > "$tmp/lr/conf"
    chmod 644 "$tmp/lr/conf"
    echo '{"id":1}' > "$tmp/lr/log/alerts.jsonl"
    "$LR" -f -s "$tmp/lr/state" "$tmp/lr/conf" > "$tmp/lr/out1" 2>&1
    r1=$?
    ls "$tmp/lr/log" > "$tmp/lr/ls1"
    [ -f "$tmp/lr/postrotate" ] && p1=1 || p1=0
    rm -f "$tmp/lr/postrotate"
    echo '{"id":2}' > "$tmp/lr/log/alerts.jsonl"       # the daemon reopened it
    "$LR" -f -s "$tmp/lr/state" "$tmp/lr/conf" > "$tmp/lr/out2" 2>&1
    r2=$?
    if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ $p1 -eq 1 ] && [ -f "$tmp/lr/postrotate" ] \
        && [ "$(tr '\n' ' ' < "$tmp/lr/ls1")" = "alerts.jsonl.1 " ] \
        && [ "$(ls "$tmp/lr/log" | tr '\n' ' ')" = "alerts.jsonl.1 alerts.jsonl.2.gz " ] \
        && grep -q '"id":2' "$tmp/lr/log/alerts.jsonl.1"; then
        ok "logrotate: rotated, postrotate run, no new file made (nocreate), delaycompress"
    else
        bad "logrotate -f: exit $r1/$r2, postrotate $p1, after 1: $(cat "$tmp/lr/ls1" | tr '\n' ' ')after 2: $(ls "$tmp/lr/log" | tr '\n' ' ')"
        cat "$tmp/lr/out1" "$tmp/lr/out2"
    fi
fi

# a second install keeps an edited liqmond.conf (and logrotate.d/liqmond)
echo "# edited" >> "$R/etc/liqmon/liqmond.conf"
echo "# edited" >> "$R/etc/logrotate.d/liqmond"
if $MK install DESTDIR="$R" PREFIX=/usr > "$tmp/i2.out" 2>&1 \
    && tail -1 "$R/etc/liqmon/liqmond.conf" | grep -qx '# edited' \
    && tail -1 "$R/etc/logrotate.d/liqmond" | grep -qx '# edited' \
    && grep -q "kept the existing" "$tmp/i2.out"; then
    ok "reinstall keeps the edited liqmond.conf and logrotate.d/liqmond"
else
    bad "reinstall: $(cat "$tmp/i2.out")"
fi

# ---- PREFIX=/usr/local into the same BUILD ----------------------------------
R2=$tmp/root2
if $MK install DESTDIR="$R2" PREFIX=/usr/local > "$tmp/i3.out" 2>&1; then
    U2=$R2/usr/local/lib/systemd/system/liqmond.service
    [ -f "$U2" ] && [ ! -e "$R2/lib" ] \
        && ok "PREFIX=/usr/local: unit in /usr/local/lib/systemd/system" \
        || bad "PREFIX=/usr/local: unit at $(find "$R2" -name liqmond.service)"
    grep -qx 'ExecStart=/usr/local/bin/liqmond -c /etc/liqmon/liqmond.conf' "$U2" \
        && grep -qx 'instruments_dir = /usr/local/share/liqmon/instruments' \
               "$R2/etc/liqmon/liqmond.conf.example" \
        && ok "PREFIX=/usr/local: unit and config paths" \
        || bad "PREFIX=/usr/local: $(grep ^Exec "$U2" | tr '\n' ' ')"
    s=$(strings "$R2/usr/local/bin/liqmond" | grep -x '/usr\(/local\)\{0,1\}/share/liqmon')
    [ "$s" = "/usr/local/share/liqmon" ] \
        && ok "PREFIX change rebuilt liqmond in the same BUILD (embeds /usr/local/share/liqmon)" \
        || bad "liqmond after the PREFIX change embeds: $s"
    if command -v systemd-analyze > /dev/null; then
        verify "$R2" liqmond.service \
            && ok "systemd-analyze verify finds and accepts it in /usr/local/lib/systemd/system" \
            || bad "systemd-analyze verify on the /usr/local install"
    fi
    touch "$tmp/mark"
    $MK install DESTDIR="$R2" PREFIX=/usr/local > "$tmp/i4.out" 2>&1 \
        || bad "make install PREFIX=/usr/local, again: $(tail -5 "$tmp/i4.out")"
    rebuilt=$(find "$tmp/build" -type f \( -name '*.o' -o -name 'liqmon*' \) \
              ! -path "$tmp/build/gen/*" -newer "$tmp/mark" \
              | sed "s#$tmp/build/##" | tr '\n' ' ')
    [ -z "$rebuilt" ] && ok "same PREFIX again: nothing rebuilt" \
        || bad "same PREFIX again rebuilt: $rebuilt"
else
    bad "make install PREFIX=/usr/local failed"
    tail -20 "$tmp/i3.out"
fi

# ---- uninstall ----------------------------------------------------------------
if $MK uninstall DESTDIR="$R" PREFIX=/usr > "$tmp/u.out" 2>&1; then
    left=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
    [ "$left" = "./etc/liqmon/liqmond.conf ./etc/logrotate.d/liqmond " ] \
        && ok "uninstall removes all but the configs" || bad "uninstall left: $left"
    [ ! -e "$R/usr/share/liqmon" ] && [ ! -e "$R/usr/share/doc/liqmon" ] \
        || bad "uninstall left the data or doc directory"
else
    bad "make uninstall failed: $(cat "$tmp/u.out")"
fi
exit $fail
