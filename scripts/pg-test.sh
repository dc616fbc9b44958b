#!/bin/sh
# pg-test.sh COMMAND [ARGS...]: run COMMAND against a private, throwaway PostgreSQL cluster on a
# free loopback port (never the system cluster), then stop and delete it; exits with COMMAND's
# status. Exports PCC_TEST_DB_URL, PCC_PG_PORT, PCC_PG_BIN, PCC_PG_DATA and PCC_PG_CTL.
set -eu

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

find_bin() {
    if [ -n "${PCC_PG_BIN:-}" ] && [ -x "$PCC_PG_BIN/initdb" ]; then
        echo "$PCC_PG_BIN"
        return
    fi
    if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        echo /usr/lib/postgresql/15/bin
        return
    fi
    # Another major version: the newest installed one.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    echo "pg-test: no PostgreSQL server binaries (install the postgresql package)" >&2
    exit 1
}

# A port nobody listens on now. Another process can still take it before the server binds,
# so the start below retries with a new port.
free_port() {
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' && return
        fi
    done
    echo $((20000 + ($$ * 7 + $(date +%s)) % 20000))
}

bin=$(find_bin)

# initdb and postgres refuse to run as root: as root, the cluster belongs to `postgres`.
as_owner=""
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "pg-test: running as root but there is no postgres user (install postgresql)" >&2
        exit 1
    fi
    as_owner="runuser -u postgres --"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcc-pg-XXXXXX")
if [ -n "$as_owner" ]; then
    chown postgres: "$tmp"
    # A TMPDIR under /root is out of the postgres user's reach: fall back to /tmp.
    if ! $as_owner test -w "$tmp"; then
        rm -rf "$tmp"
        tmp=$(mktemp -d /tmp/pcc-pg-XXXXXX)
        chown postgres: "$tmp"
    fi
fi
chmod 700 "$tmp"
data=$tmp/data
log=$tmp/server.log
ctl=$tmp/pg_ctl

started=0
cleanup() {
    status=$?
    trap - EXIT INT TERM HUP
    if [ -f "$data/postmaster.pid" ]; then
        "$ctl" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

(cd "$tmp" && $as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
    --no-locale --no-sync --no-instructions) >"$tmp/initdb.log" 2>&1 || {
    cat "$tmp/initdb.log" >&2
    echo "pg-test: initdb failed" >&2
    exit 1
}

# pg_ctl for tests that stop and start the server: `$PCC_PG_CTL stop -m immediate`,
# `$PCC_PG_CTL start -w`. The settings live in the data directory, so a restart keeps them.
cat >"$ctl" <<EOF
#!/bin/sh
cd "$tmp" || exit 1
exec $as_owner "$bin/pg_ctl" -D "$data" -l "$log" "\$@"
EOF
chmod 755 "$ctl"
(cd "$tmp" && $as_owner sh -c "echo \"include 'pcc-test.conf'\" >>'$data/postgresql.conf'")

port=""
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # Only loopback TCP and a socket inside the private directory. Without fsync, commits still
    # survive `pg_ctl -m immediate stop` (the kernel holds them), just not a machine crash.
    cat >"$tmp/port.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp'
fsync = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
    (cd "$tmp" && $as_owner sh -c "cat '$tmp/port.conf' >'$data/pcc-test.conf'")
    if "$ctl" -w -t 60 start >/dev/null 2>&1; then
        started=1
        break
    fi
    echo "pg-test: the server did not start on port $port (attempt $attempt)" >&2
done
if [ "$started" -ne 1 ]; then
    tail -n 30 "$log" >&2 2>/dev/null || true
    exit 1
fi

"$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres pcc

export PCC_TEST_DB_URL="postgres://postgres@127.0.0.1:$port/pcc"
export PCC_PG_PORT=$port PCC_PG_BIN=$bin PCC_PG_DATA=$data PCC_PG_CTL=$ctl

set +e
"$@"
status=$?
set -e
exit "$status"
