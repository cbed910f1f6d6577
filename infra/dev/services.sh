#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 for `make demo` and
# `make test`, then creates the synapse role and databases.
#
# For each service, in order: already answering → nothing to do; installed
# system service → start it; running as root with apt → install and start it;
# server binaries present but not root → start a private instance under
# .data/; otherwise print exactly what to run and exit 1.
set -euo pipefail

PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
DATA_DIR="$ROOT_DIR/.data"

say() { printf 'services: %s\n' "$*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # port name
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.5; done
  say "$2 did not come up on 127.0.0.1:$1"; return 1
}
is_root() { [ "$(id -u)" = 0 ]; }
apt_installed=0
apt_install() {
  is_root && command -v apt-get >/dev/null || return 1
  if [ $apt_installed = 0 ]; then
    say "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_installed=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

start_postgres() {
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1 && is_root; then
    local v; v=$(ls /etc/postgresql | sort -V | tail -1)
    say "starting PostgreSQL $v cluster"
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    wait_for "$PGPORT" PostgreSQL && return 0
  fi
  if [ -z "$(pg_bin)" ] && apt_install postgresql; then start_postgres; return; fi
  local bin; bin=$(pg_bin)
  if [ -n "$bin" ] && ! is_root; then
    say "starting a private PostgreSQL in $DATA_DIR/postgres"
    mkdir -p "$DATA_DIR"
    [ -d "$DATA_DIR/postgres" ] || "$bin/initdb" -D "$DATA_DIR/postgres" -U postgres --auth=trust >/dev/null
    "$bin/pg_ctl" -D "$DATA_DIR/postgres" -l "$DATA_DIR/postgres.log" -o "-p $PGPORT -k $DATA_DIR -c listen_addresses=127.0.0.1" start >/dev/null
    wait_for "$PGPORT" PostgreSQL && return 0
  fi
  say "PostgreSQL is not reachable on 127.0.0.1:$PGPORT and could not be started."
  say "Install it (sudo apt-get install postgresql) and start it, or point SYNAPSE_DATABASE_URL / SYNAPSE_TEST_DATABASE_URL at a server."
  exit 1
}

start_redis() {
  if ! command -v redis-server >/dev/null; then apt_install redis-server || true; fi
  if command -v redis-server >/dev/null; then
    local dir=/var/lib/redis
    is_root && [ -d "$dir" ] || { dir="$DATA_DIR/redis"; mkdir -p "$dir"; }
    say "starting Redis (data in $dir, nothing persisted)"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log"
    wait_for "$REDIS_PORT" Redis && return 0
  fi
  say "Redis is not reachable on 127.0.0.1:$REDIS_PORT and could not be started."
  say "Install it (sudo apt-get install redis-server) and start it, or point SYNAPSE_REDIS_URL / SYNAPSE_TEST_REDIS_URL at a server."
  exit 1
}

psql_admin() {
  # Trust or password auth over TCP first; the Debian default (peer auth on
  # the socket) as the postgres system user when we are root.
  if command -v psql >/dev/null && psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  elif is_root && command -v runuser >/dev/null; then
    runuser -u postgres -- psql -p "$PGPORT" -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  else
    return 1
  fi
}

ensure_databases() {
  if ! psql_admin -c 'select 1' >/dev/null 2>&1; then
    say "cannot administer PostgreSQL as 'postgres'; create role synapse (password synapse, CREATEDB) and databases synapse, synapse_test yourself"
    return 0
  fi
  psql_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'synapse') THEN CREATE ROLE synapse LOGIN CREATEDB PASSWORD 'synapse'; END IF; END \$\$;" >/dev/null
  for db in synapse synapse_test; do
    if [ "$(psql_admin -c "select 1 from pg_database where datname = '$db'")" != 1 ]; then
      psql_admin -c "CREATE DATABASE $db OWNER synapse" >/dev/null
      say "created database $db"
    else
      psql_admin -c "ALTER DATABASE $db OWNER TO synapse" >/dev/null
    fi
  done
}

answers "$PGPORT" || start_postgres
answers "$REDIS_PORT" || start_redis
ensure_databases
command -v go >/dev/null || say "Go is not installed: install Go 1.26 (see README) before building."
say "PostgreSQL on 127.0.0.1:$PGPORT and Redis on 127.0.0.1:$REDIS_PORT are up"
