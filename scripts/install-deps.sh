#!/bin/sh
# Install the Debian 12 packages liqmon needs to build, test and run.
# Idempotent: prints nothing and changes nothing when everything is present.
# Works as root; otherwise uses sudo; otherwise says what to run.
set -eu

PKGS="build-essential pkg-config libwebsockets-dev libwebsockets-evlib-uv \
libuv1-dev libjansson-dev libsqlite3-dev sqlite3 libssl-dev check \
libsubunit-dev valgrind openssl zlib1g-dev python3 systemd logrotate \
librsvg2-bin libxml2-utils"
# Metrics tests: Debian's real Prometheus server and promtool.
PKGS="$PKGS prometheus curl"
# make fuzz: clang with its libFuzzer runtime (tests/fuzz/README.md).
PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
