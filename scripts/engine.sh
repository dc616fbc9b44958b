#!/bin/sh
# engine.sh [SOCKET]: makes sure a rootful Podman service answers the Docker Engine API on SOCKET
# (default /run/podman/podman.sock) on Debian 12: installs what is missing, writes pcc's
# containers.conf drop-in, starts the service if nothing answers, and prints the socket path.
# Idempotent; diagnostics go to stderr, the socket path alone to stdout.
set -eu
sock=${1:-/run/podman/podman.sock}
conf=/etc/containers/containers.conf.d/50-pcc.conf
log=$(dirname "$sock")/pcc-podman-service.log

say() { echo "engine: $*" >&2; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=sudo
    else
        say "not root and no sudo: cannot set up rootful Podman"
        exit 1
    fi
fi

# The rootful socket is root's alone: without root, ask through sudo (and pccd run by that user
# will not reach it either: it says so at start and runs without a runtime).
ping_ok() {
    [ "$($sudo curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping 2>/dev/null)" = OK ]
}

# Packages: podman (its conmon, containers-common, CNI plugins come as dependencies); runc named
# so that the "crun | runc" dependency takes runc (crun fails on hybrid cgroups); iptables for
# the CNI port mappings (podman only suggests it); curl for the ping below. Rootful Podman needs
# neither uidmap nor slirp4netns, and pcc does not use --init (catatonit).
missing=""
for pkg in podman runc iptables curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    say "installing$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086 # the list is meant to split into package names
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $missing >/dev/null
fi

# Podman's own default ulimits (nofile and nproc raised to the kernel's maximum) are refused
# where the service's hard limits are lower ("error setting rlimit type 7: operation not
# permitted"), so the defaults are set explicitly, to this shell's hard limits capped at values
# an agent needs. The service inherits the same limits.
cap() {
    hard=$1 max=$2
    if [ "$hard" = unlimited ] || [ "$hard" -gt "$max" ]; then echo "$max"; else echo "$hard"; fi
}
hard_limit() { awk -v what="$1" 'index($0, what) == 1 { print $(NF - 1) }' /proc/self/limits; }
nofile=$(cap "$(hard_limit "Max open files")" 65536)
nproc=$(cap "$(hard_limit "Max processes")" 32768)
events=journald
[ -S /run/systemd/journal/socket ] || events=file
want=$(cat <<CONF
# Written by pcc's scripts/engine.sh; rewritten when it changes. Edit the script, not this file.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "$events"
CONF
)
# Registries on the loopback address may speak plain HTTP (the runtime tests pull from their own
# registry, tests/agent/registry.py, on 127.0.0.1 with credentials); nothing else changes.
want_registries=$(cat <<CONF
# Written by pcc's scripts/engine.sh: image registries on 127.0.0.1 (any port) may be plain HTTP.
[[registry]]
location = "127.0.0.1"
insecure = true
CONF
)
changed=0
write() { # write FILE CONTENT: replace FILE when its content differs
    if [ "$($sudo cat "$1" 2>/dev/null || true)" != "$2" ]; then
        $sudo mkdir -p "$(dirname "$1")"
        printf '%s\n' "$2" | $sudo tee "$1.tmp" >/dev/null
        $sudo mv "$1.tmp" "$1"
        say "wrote $1"
        changed=1
    fi
}
write "$conf" "$want"
write /etc/containers/registries.conf.d/50-pcc-loopback.conf "$want_registries"

# A service whose working directory was deleted (started from a checkout since removed) still
# answers pings, but conmon cannot start any container: replace it.
for svc in $(pgrep -f "podman system service .*unix://$sock" 2>/dev/null || true); do
    case $($sudo readlink "/proc/$svc/cwd" 2>/dev/null) in
    *" (deleted)")
        say "the Podman service (pid $svc) runs in a deleted directory: starting it anew"
        $sudo kill "$svc" 2>/dev/null || true
        i=0
        while [ -d "/proc/$svc" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done ;;
    esac
done

if ping_ok; then
    [ "$changed" = 0 ] ||
        say "the Podman service on $sock was started before its configuration changed: restart it"
    echo "$sock"
    exit 0
fi

# Nothing answers: a socket file left by a dead service would make the new one fail to bind.
$sudo mkdir -p "$(dirname "$sock")"
$sudo test -S "$sock" && $sudo rm -f "$sock"
say "starting podman system service on $sock (log: $log)"
# From /, so that no directory of a checkout it was started from is held (or can vanish).
pid=$($sudo sh -c "cd / && setsid nohup podman system service --time=0 'unix://$sock' >'$log' 2>&1 \
    </dev/null & echo \$!")
i=0
until ping_ok; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || [ ! -d "/proc/$pid" ]; then
        say "the Podman service does not answer on $sock; its log:"
        tail -5 "$log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
echo "$sock"
