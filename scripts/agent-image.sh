#!/bin/sh
# agent-image.sh BUILD_DIR [TAG]: builds tests/agent/agent.c into a static binary and an image
# FROM scratch (offline: nothing is pulled), tagged localhost/pcc-test-agent:latest by default.
# The image carries the binary's SHA-256 as a label; an unchanged binary is not rebuilt. Also
# writes BUILD_DIR/agent-image/oci, the image as an OCI layout (for the tests' registry).
set -eu
build=${1:?usage: agent-image.sh BUILD_DIR [TAG]}
tag=${2:-localhost/pcc-test-agent:latest}
dir=$build/agent-image
engine=podman
command -v podman >/dev/null 2>&1 || engine=docker

mkdir -p "$dir"
${CC:-gcc} -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wvla -static -Ilib/core \
    -o "$dir/agent.new" tests/agent/agent.c -lpthread
mv "$dir/agent.new" "$dir/agent"
cp tests/agent/Containerfile "$dir/Containerfile"
sum=$(sha256sum "$dir/agent" | cut -d' ' -f1)
have=$($engine image inspect --format '{{index .Labels "pcc-test-agent.sha256"}}' "$tag" 2>/dev/null ||
    true)
# The image is also kept as an OCI layout directory, which the tests' own registry
# (tests/agent/registry.py) serves, so pulls with credentials are tested without any public one.
save() {
    rm -rf "$dir/oci"
    $engine save -q --format oci-dir -o "$dir/oci" "$tag" >/dev/null
}
if [ "$have" = "$sum" ]; then
    [ -f "$dir/oci/index.json" ] || save
    echo "agent-image: $tag is up to date"
    exit 0
fi
old=$($engine image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
$engine build -q --label "pcc-test-agent.sha256=$sum" -t "$tag" -f "$dir/Containerfile" "$dir" >/dev/null
# The previous build, now untagged, goes (unless a container still uses it).
[ -z "$old" ] || $engine rmi "$old" >/dev/null 2>&1 || true
save
echo "agent-image: built $tag"
