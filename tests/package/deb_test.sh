#!/bin/sh
# deb_test.sh DEB: the package installs with apt on a clean Debian 12 and works there. A minimal
# bookworm root is made with debootstrap (kept as build/debroot-bookworm.tar, so later runs
# start from a copy), the package is installed into it with apt-get, which fetches its
# dependencies, pccd serves there as the pccd user, and a purge removes it all again.
set -eu
deb=$1
[ "$(id -u)" -eq 0 ] || { echo "deb_test: needs root (chroot)" >&2; exit 1; }
cache=build/debroot-bookworm.tar
work=$(mktemp -d "${TMPDIR:-/tmp}/pcc-deb-XXXXXX")
root=$work/root
cleanup() { rm -rf "$work"; }
trap cleanup EXIT INT TERM
fail() { echo "deb_test: FAILED: $*" >&2; exit 1; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# The same as the pccd user (chroot sets the ids and execs: signals reach pccd itself).
as_pccd() {
    chroot --userspec=pccd:pccd "$root" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/var/lib/pccd \
        "$@"
}

# The mirror the host's apt uses, so the root reaches the same registry.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources \
             2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$root"
if [ -f "$cache" ]; then
    tar -xf "$cache" -C "$root"
else
    echo "deb_test: making a clean Debian 12 root with debootstrap (once)" >&2
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    tar -cf "$cache.tmp" -C "$root" . && mv "$cache.tmp" "$cache"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/tmp/pcc.deb"

in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update"; }
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -qq --no-install-recommends \
    /tmp/pcc.deb >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; fail "apt-get install"; }
echo "ok - apt-get install of $(basename "$deb") with its dependencies"

version=$(dpkg-deb -f "$deb" Version)
in_root pccd --version | grep -qx "pccd $version" || fail "pccd --version"
in_root pcc --help | grep -q "auth" || fail "pcc --help"
in_root getent passwd pccd >/dev/null || fail "the pccd user was not made"
[ -f "$root/lib/systemd/system/pccd.service" ] || fail "no systemd unit"
[ -f "$root/etc/default/pccd" ] || fail "no /etc/default/pccd"
in_root man -w pccd >/dev/null 2>&1 || [ -f "$root/usr/share/man/man1/pccd.1.gz" ] ||
    fail "no manual page"
echo "ok - binaries, user, unit, settings and manual pages are in place"

# The server runs there as its own user, as the unit would run it.
in_root mkdir -p /var/lib/pccd
in_root chown pccd:pccd /var/lib/pccd
as_pccd pccd init --data /var/lib/pccd >"$work/init.log" 2>&1 ||
    { cat "$work/init.log" >&2; fail "pccd init as pccd"; }
# Not through as_pccd: a function run in the background is a shell of its own, and the signal
# below must reach pccd.
chroot --userspec=pccd:pccd "$root" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    pccd serve --data /var/lib/pccd --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
serving=$!
tries=0
until grep -q "listening on" "$work/serve.log"; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { cat "$work/serve.log" >&2; fail "pccd serve did not start"; }
    sleep 0.1
done
kill -TERM $serving
status=0
wait $serving || status=$?
[ $status -eq 0 ] || { cat "$work/serve.log" >&2; fail "pccd serve stopped with status $status"; }
echo "ok - pccd serves as the pccd user"

DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -qq pcc >>"$work/apt.log" 2>&1 ||
    fail "apt-get purge"
[ ! -e "$root/usr/bin/pccd" ] || fail "purge left /usr/bin/pccd"
[ ! -e "$root/var/lib/pccd" ] || fail "purge left /var/lib/pccd"
! in_root getent passwd pccd >/dev/null || fail "purge left the pccd user"
echo "ok - apt-get purge removes the package, its data and its user"
echo "deb_test: 4 passed, 0 failed"
