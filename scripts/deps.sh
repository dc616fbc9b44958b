#!/bin/sh
# deps.sh build|test|bench: install the Debian packages pcc needs for that job, only the ones
# missing, so `make run` and `make check` work on a fresh Debian 12 machine.
set -eu

build="gcc make pkg-config libc6-dev zlib1g-dev libmicrohttpd-dev libjansson-dev libsodium-dev
       libsqlite3-dev libcurl4-openssl-dev libpq-dev libgnutls28-dev libsystemd-dev curl help2man"
test="$build libcriterion-dev python3 python3-pytest python3-toml sqlite3 clang clang-format postgresql
      libclang-rt-14-dev chromium openssl dpkg-dev lintian debootstrap systemd"
bench="$build wrk nginx-light hyperfine sqlite3 time procps python3 curl postgresql"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=""
# The browser tests need node and npm. A machine that already has them (from any source, e.g.
# NodeSource, whose nodejs conflicts with Debian's npm) keeps its own; otherwise Debian's.
if [ "${1:-build}" = test ] && ! { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }; then
    want="$want nodejs npm"
fi
for pkg in $want; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=sudo
    else
        echo "deps: missing packages:$missing; install them as root (apt-get install)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split into package names
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
