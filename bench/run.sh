#!/bin/sh
# run.sh BUILD_DIR: `make bench`. Measures, in one run on this machine:
#  1. authenticated throughput and p99 latency of GET /v1/organizations with a valid PAT and
#     100,000 tokens in the database, against nginx serving a static 200 (the baseline), on
#     SQLite and on PostgreSQL (a private cluster from scripts/pg-test.sh, same data);
#  2. wall time and peak RSS of `pipecat cloud auth whoami` against the running pccd, against
#     one `curl` request (the baseline).
# Prints absolute figures and ratios. Not part of `make check`: timings are never asserted.
set -eu
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PCC_BENCH_PG:-}" ]; then
    sh "$here/../scripts/deps.sh" bench
    # The whole run inside a private PostgreSQL cluster, started and removed by pg-test.sh.
    if [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb \
        >/dev/null 2>&1; then
        PCC_BENCH_PG=1 exec sh "$here/../scripts/pg-test.sh" sh "$0" "$@"
    fi
    echo "bench: no PostgreSQL server binaries (apt-get install postgresql): SQLite only" >&2
    PCC_BENCH_PG=none
fi
DURATION=${BENCH_SECONDS:-10}
# wrk runs on this machine too. With the servers on every core, the three processes take turns
# on the same cores and the p99 measures the scheduler: here a bare 404 from libmicrohttpd and
# nginx's static answer show 4-8 ms that way. So the headline pair runs pccd and nginx with
# half the cores each (pccd --threads, nginx worker_processes), leaving the rest to wrk; the
# pair with one thread per core is measured and printed as well.
CPUS=$(nproc)
SERVER_THREADS=${BENCH_SERVER_THREADS:-$((CPUS / 2))}
[ "$SERVER_THREADS" -ge 1 ] || SERVER_THREADS=1
CONNECTIONS=${BENCH_CONNECTIONS:-64}
TOKENS=${BENCH_TOKENS:-100000}

work=$(mktemp -d)
pccd_pid=""
pg_pid=""
nginx_pid=""
all_pid=""
all_nginx_pid=""
cleanup() {
    [ -n "$pccd_pid" ] && kill "$pccd_pid" 2>/dev/null || true
    [ -n "$all_pid" ] && kill "$all_pid" 2>/dev/null || true
    [ -n "$all_nginx_pid" ] && kill "$all_nginx_pid" 2>/dev/null || true
    [ -n "$pg_pid" ] && kill "$pg_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

data="$work/data"
"$bin/pccd" init --data "$data" 2>/dev/null
"$bin/pccd" user add --data "$data" --email bench@example.com --org bench 2>/dev/null
token=$("$bin/pccd" token create --data "$data" --user bench@example.com --name bench 2>/dev/null)
user_id=$(sqlite3 "$data/pcc.db" "SELECT id FROM users WHERE email = 'bench@example.com'")
# Volume: other tokens whose digests are random (no secret exists for them), spread over
# 1,000 users as a real installation would be.
sqlite3 "$data/pcc.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO users (id, email, name, created_at)
SELECT 'usr_bench' || i, 'bench' || i || '@example.com', '', 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $TOKENS - 1)
INSERT INTO tokens (id, user_id, kind, name, display, digest, created_at)
SELECT 'tok_bench' || i, 'usr_bench' || (1 + i % 1000), 0, 'bench ' || i, 'pcc_pat_x...y',
       lower(hex(randomblob(32))), 0 FROM n;
COMMIT;
SQL
count=$(sqlite3 "$data/pcc.db" "SELECT count(*) FROM tokens")

# The same installation on PostgreSQL: its own database and secret, the same volume of tokens.
pg_port=""
if [ "$PCC_BENCH_PG" = 1 ]; then
    psql() { "$PCC_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PCC_PG_PORT" \
        -U postgres "$@"; }
    psql -d postgres -c "CREATE DATABASE pcc_bench"
    pg_url="postgres://postgres@127.0.0.1:$PCC_PG_PORT/pcc_bench"
    pg_data="$work/pg-data"
    "$bin/pccd" init --data "$pg_data" --db "$pg_url" 2>/dev/null
    "$bin/pccd" user add --data "$pg_data" --db "$pg_url" --email bench@example.com \
        --org bench 2>/dev/null
    pg_token=$("$bin/pccd" token create --data "$pg_data" --db "$pg_url" \
        --user bench@example.com --name bench 2>/dev/null)
    psql -d pcc_bench <<SQL
BEGIN;
INSERT INTO users (id, email, name, created_at)
SELECT 'usr_bench' || i, 'bench' || i || '@example.com', '', 0 FROM generate_series(1, 1000) i;
INSERT INTO tokens (id, user_id, kind, name, display, digest, created_at)
SELECT 'tok_bench' || i, 'usr_bench' || (1 + i % 1000), 0, 'bench ' || i, 'pcc_pat_x...y',
       md5(random()::text || i) || md5(i::text || random()::text), 0
FROM generate_series(1, $TOKENS - 1) i;
COMMIT;
-- Now, not during the SQLite runs: autovacuum of the fresh rows would take CPU from them.
VACUUM ANALYZE;
SQL
    pg_count=$(psql -d pcc_bench -c "SELECT count(*) FROM tokens")
    pg_port=$(free_port)
    "$bin/pccd" serve --data "$pg_data" --db "$pg_url" --listen "127.0.0.1:$pg_port" \
        --log-level warn 2>"$work/pccd-pg.log" &
    pg_pid=$!
fi

port=$(free_port)
"$bin/pccd" serve --data "$data" --listen "127.0.0.1:$port" --log-level warn \
    --threads "$SERVER_THREADS" 2>"$work/pccd.log" &
pccd_pid=$!
nport=$(free_port)
sed -e "s|PORT|$nport|; s|DIR|$work|g; s|WORKERS|$SERVER_THREADS|" "$here/nginx.conf" \
    >"$work/nginx.conf"
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.out" &
nginx_pid=$!
# The same two with one thread (worker) per core, on the same database.
all_port=$(free_port)
"$bin/pccd" serve --data "$data" --listen "127.0.0.1:$all_port" --log-level warn \
    --threads "$CPUS" 2>"$work/pccd-all.log" &
all_pid=$!
all_nport=$(free_port)
mkdir -p "$work/all"
sed -e "s|PORT|$all_nport|; s|DIR|$work/all|g; s|WORKERS|$CPUS|" "$here/nginx.conf" \
    >"$work/all/nginx.conf"
/usr/sbin/nginx -c "$work/all/nginx.conf" -p "$work/all" 2>"$work/all/nginx.out" &
all_nginx_pid=$!
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 &&
        curl -fsS "http://127.0.0.1:$nport/" >/dev/null 2>&1 &&
        curl -fsS "http://127.0.0.1:$all_port/healthz" >/dev/null 2>&1 &&
        curl -fsS "http://127.0.0.1:$all_nport/" >/dev/null 2>&1 && break
    sleep 0.1
done
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/v1/organizations")
[ "$status" = 200 ] || { echo "bench: the PAT was not accepted ($status)" >&2; exit 1; }
if [ -n "$pg_port" ]; then
    for _ in $(seq 50); do
        curl -fsS "http://127.0.0.1:$pg_port/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $pg_token" \
        "http://127.0.0.1:$pg_port/v1/organizations")
    [ "$status" = 200 ] || {
        echo "bench: the PAT was not accepted on PostgreSQL ($status)" >&2
        cat "$work/pccd-pg.log" >&2
        exit 1
    }
fi

# wrk prints "Requests/sec: N" and, with --latency, a "99% X{us,ms,s}" line.
run_wrk() {
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" >"$work/wrk.out" 2>&1
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")
    p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
                             else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                             else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$work/wrk.out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.out")
    echo "$rps $p99 ${non2xx:-0}"
}

echo "== throughput: $CONNECTIONS connections, ${DURATION}s each, $count tokens in the database"
echo "== pccd --threads $SERVER_THREADS and nginx with $SERVER_THREADS worker(s), of $CPUS CPUs"
set -- $(run_wrk "http://127.0.0.1:$nport/")
nginx_rps=$1
nginx_p99=$2
set -- $(run_wrk -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/organizations")
pccd_rps=$1
pccd_p99=$2
pccd_errors=$3
echo "== the same with one thread (worker) per CPU: $CPUS each"
set -- $(run_wrk "http://127.0.0.1:$all_nport/")
all_nginx_rps=$1
all_nginx_p99=$2
set -- $(run_wrk -H "Authorization: Bearer $token" "http://127.0.0.1:$all_port/v1/organizations")
all_rps=$1
all_p99=$2
kill "$all_pid" "$all_nginx_pid" 2>/dev/null || true
wait "$all_pid" "$all_nginx_pid" 2>/dev/null || true
all_pid=""
all_nginx_pid=""
pg_rps=0 pg_p99=0 pg_errors=-
if [ -n "$pg_port" ]; then
    echo "== the same on PostgreSQL: $pg_count tokens in the database"
    set -- $(run_wrk -H "Authorization: Bearer $pg_token" \
        "http://127.0.0.1:$pg_port/v1/organizations")
    pg_rps=$1
    pg_p99=$2
    pg_errors=$3
    kill "$pg_pid" 2>/dev/null || true
    wait "$pg_pid" 2>/dev/null || true
    pg_pid=""
fi

# whoami: 30 runs each, median wall time; peak RSS from GNU time.
export PIPECAT_API_HOST="http://127.0.0.1:$port" PIPECAT_TOKEN="$token" HOME="$work/home"
mkdir -p "$HOME"
hyperfine -N --warmup 3 --runs 30 --export-json "$work/hf.json" \
    "$bin/pipecat cloud auth whoami" \
    "curl -s -H 'Authorization: Bearer $token' http://127.0.0.1:$port/v1/users" >/dev/null 2>&1
medians=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join(str(x["median"]*1000) for x in r))' "$work/hf.json")
set -- $medians
whoami_ms=$1
curl_ms=$2
whoami_kb=$(/usr/bin/time -f %M "$bin/pipecat" cloud auth whoami 2>&1 >/dev/null | tail -1)
curl_kb=$(/usr/bin/time -f %M curl -s -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/v1/users" 2>&1 >/dev/null | tail -1)

python3 - "$nginx_rps" "$pccd_rps" "$nginx_p99" "$pccd_p99" "$pccd_errors" "$whoami_ms" \
    "$curl_ms" "$whoami_kb" "$curl_kb" "$pg_rps" "$pg_p99" "$pg_errors" "$all_rps" "$all_p99" \
    "$all_nginx_rps" "$all_nginx_p99" "$SERVER_THREADS" "$CPUS" <<'PY'
import sys
nginx_rps, pccd_rps, nginx_p99, pccd_p99 = map(float, sys.argv[1:5])
errors = sys.argv[5]
whoami_ms, curl_ms = float(sys.argv[6]), float(sys.argv[7])
whoami_kb, curl_kb = int(sys.argv[8]), int(sys.argv[9])
pg_rps, pg_p99, pg_errors = float(sys.argv[10]), float(sys.argv[11]), sys.argv[12]
all_rps, all_p99, all_nginx_rps, all_nginx_p99 = map(float, sys.argv[13:17])
threads, cpus = sys.argv[17], sys.argv[18]
def verdict(ok): return "ok" if ok else "MISSED"
print()
print(f"{'measure':44} {'pcc':>12} {'baseline':>12} {'ratio':>8}  target")
print(f"{'GET /v1/organizations req/s (vs nginx)':44} {pccd_rps:12.0f} {nginx_rps:12.0f} "
      f"{pccd_rps / nginx_rps:8.2f}  >= 0.50 {verdict(pccd_rps / nginx_rps >= 0.5)}")
print(f"{'p99 latency ms at 64 connections':44} {pccd_p99:12.2f} {nginx_p99:12.2f} "
      f"{pccd_p99 / max(nginx_p99, 1e-3):8.2f}  < 5 ms {verdict(pccd_p99 < 5)}")
print(f"{'non-2xx answers during the pccd run':44} {errors:>12}")
print(f"{'  (servers with ' + threads + ' of ' + cpus + ' CPUs; wrk has the rest)':44}")
print(f"{'req/s, one thread per CPU (vs nginx, same)':44} {all_rps:12.0f} {all_nginx_rps:12.0f} "
      f"{all_rps / all_nginx_rps:8.2f}  reported")
print(f"{'p99 ms, one thread per CPU (vs nginx, same)':44} {all_p99:12.2f} {all_nginx_p99:12.2f} "
      f"{all_p99 / max(all_nginx_p99, 1e-3):8.2f}  reported")
if pg_rps:
    print(f"{'PostgreSQL: req/s (vs pccd on SQLite)':44} {pg_rps:12.0f} {pccd_rps:12.0f} "
          f"{pg_rps / pccd_rps:8.2f}")
    print(f"{'PostgreSQL: req/s (vs nginx)':44} {pg_rps:12.0f} {nginx_rps:12.0f} "
          f"{pg_rps / nginx_rps:8.2f}")
    print(f"{'PostgreSQL: p99 latency ms (vs SQLite)':44} {pg_p99:12.2f} {pccd_p99:12.2f} "
          f"{pg_p99 / max(pccd_p99, 1e-3):8.2f}")
    print(f"{'non-2xx answers during the PostgreSQL run':44} {pg_errors:>12}")
else:
    print(f"{'PostgreSQL':44} {'not run: install postgresql':>26}")
print(f"{'whoami median wall ms (vs one curl request)':44} {whoami_ms:12.2f} {curl_ms:12.2f} "
      f"{whoami_ms / curl_ms:8.2f}  < 10 ms {verdict(whoami_ms < 10)}")
print(f"{'whoami peak RSS MiB (vs curl)':44} {whoami_kb / 1024:12.2f} {curl_kb / 1024:12.2f} "
      f"{whoami_kb / curl_kb:8.2f}  < 8 MiB {verdict(whoami_kb < 8 * 1024)}")
PY
