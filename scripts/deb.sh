#!/bin/sh
# deb.sh BUILD_DIR: build BUILD_DIR/pcc_VERSION_ARCH.deb from the release binaries in BUILD_DIR
# with dpkg-deb: `make install` into a staging root under /usr, the maintainer scripts of
# packaging/deb/, and Depends computed by dpkg-shlibdeps. Prints the package's path.
set -eu
build=$1
version=$("$build/pccd" --version | sed -n 's/^pccd //p')
arch=$(dpkg --print-architecture)
stage=$build/deb/root
rm -rf "$build/deb" "$build"/pcc_*.deb
mkdir -p "$stage/DEBIAN"

make --no-print-directory -s install DESTDIR="$PWD/$stage" PREFIX=/usr BUILD="$build" >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$stage/usr/bin/pccd" "$stage/usr/bin/pipecat"
# Debian keeps a package's copyright and changelog beside its docs, compressed where large.
doc=$stage/usr/share/doc/pcc
mv "$doc/LICENSE" "$doc/copyright.tmp"
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: pcc"
    echo
    echo "Files: *"
    echo "Copyright: 2026 the pcc authors"
    echo "License: BSD-2-Clause"
    sed -n '/^Redistribution/,$p' "$doc/copyright.tmp" | sed 's/^$/./; s/^/ /'
} >"$doc/copyright"
rm "$doc/copyright.tmp"
gzip -9n "$doc/README.md"
man=$stage/usr/share/man/man1
gzip -9n "$man/pccd.1" "$man/pipecat.1"
rm "$man/pcc.1"
ln -s pipecat.1.gz "$man/pcc.1.gz"
{
    echo "pcc ($version) unstable; urgency=medium"
    echo
    echo "  * Release $version; the project's CHANGELOG.md lists the changes."
    echo
    echo " -- pcc maintainers <maintainers@pcc.example.org>  $(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$doc/changelog.gz"

for f in postinst prerm postrm; do
    install -m 0755 "packaging/deb/$f" "$stage/DEBIAN/$f"
done
echo /etc/default/pccd >"$stage/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control beside it, even though it reads nothing from it.
shlib=$build/deb/shlibs
mkdir -p "$shlib/debian"
echo "Source: pcc" >"$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O -e"$PWD/../root/usr/bin/pccd" \
    -e"$PWD/../root/usr/bin/pipecat" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

cat >"$stage/DEBIAN/control" <<CONTROL
Package: pcc
Version: $version
Architecture: $arch
Maintainer: pcc maintainers <maintainers@pcc.example.org>
Installed-Size: $size
Depends: $depends, adduser, libcurl4
Recommends: podman, runc
Section: net
Priority: optional
Description: self-hosted Pipecat Cloud: server and command-line client
 pccd serves the Pipecat Cloud API, a dashboard and personal access tokens
 (stored as keyed digests, shown once), on SQLite or PostgreSQL, and runs
 agents on a container engine. pipecat (also pcc) is the command-line client,
 compatible with the official client's credentials file.
CONTROL

find "$stage" -type d -exec chmod 0755 {} +
out=$build/pcc_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
