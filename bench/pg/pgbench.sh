#!/usr/bin/env bash
# The PostgreSQL baseline of the POST scenario (issue 8): a throwaway cluster (initdb in a temp
# directory, loopback TCP port, fsync=on, synchronous_commit=on, full_page_writes=on: the
# defaults that make a commit durable, like tenantd's --durability fsync), the events table of
# schema.sql, and `pgbench` running create.sql (one committed insert per transaction) from
# CLIENTS connections for DURATION.
#
# usage: bench/pg/pgbench.sh ; env: DURATION (10 s), CLIENTS (64), THREADS (2)
# Prints `pg_inserts_per_sec N` (pgbench's tps without connection time) and `pg_rows N` last;
# exit 2 when PostgreSQL is not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
duration=${DURATION:-10}
duration=${duration%s}
clients=${CLIENTS:-64}
threads=${THREADS:-2}

pgbin=${PG_BIN:-}
if [ -z "$pgbin" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin=$d; done
fi
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || {
  echo "PostgreSQL server not installed (apt-get install postgresql)" >&2
  exit 2
}
command -v pgbench >/dev/null || { echo "pgbench not installed (postgresql-contrib)" >&2; exit 2; }

# postgres refuses to run as root: as root, run the server as the `postgres` system user (the
# Debian package creates it) or `nobody`.
as=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || user=nobody
  as=(runuser -u "$user" --)
fi

work=$(mktemp -d /tmp/tenantd-pgbench.XXXXXX)
chmod 755 "$work"
[ ${#as[@]} -gt 0 ] && chown "$user" "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  "${as[@]}" "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as[@]}" "$pgbin/initdb" -D "$work/data" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
max_connections = $((clients + 16))
fsync = on
synchronous_commit = on
full_page_writes = on
wal_sync_method = fdatasync
shared_buffers = 256MB
max_wal_size = 4GB
logging_collector = off
CONF
"${as[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 start >/dev/null ||
  { cat "$work/server.log" >&2; exit 1; }

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench "$@"; }
psql_ -d postgres -c 'CREATE DATABASE bench' >/dev/null
psql_ -d bench -f "$here/schema.sql" >/dev/null

out=$(pgbench -n -h 127.0.0.1 -p "$port" -U bench -M prepared -c "$clients" -j "$threads" \
  -T "$duration" -f "$here/create.sql" bench 2>"$work/pgbench.err") ||
  { cat "$work/pgbench.err" >&2; exit 1; }
echo "$out" | grep -E '^(number of (transactions actually processed|failed)|latency|tps)' || true
tps=$(echo "$out" | awk '/^tps/ && /without initial connection time/ {print $3}')
[ -n "$tps" ] || tps=$(echo "$out" | awk '/^tps/ {print $3; exit}')
rows=$(psql_ -d bench -At -c 'SELECT count(*) FROM events')
echo "pg_inserts_per_sec $tps"
echo "pg_rows $rows"
