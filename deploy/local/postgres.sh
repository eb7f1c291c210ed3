#!/usr/bin/env bash
# PostgreSQL from Debian's package, without systemd (see docs/operations.md).
#   postgres.sh ensure   install if absent, start the cluster, create the app role and one database per service
#   postgres.sh stop     stop the cluster (only if this script started it: marker file)
#   postgres.sh status
# Skipped entirely when DATABASE_URL is set: the caller brings its own server.
set -euo pipefail

ROLE=${PAYMENTS_PG_ROLE:-payments}
PASSWORD=${PAYMENTS_PG_PASSWORD:-payments}
DATABASES="checkout payment subscription notification"
MARKER="$(cd "$(dirname "$0")/../.." && pwd)/.cache/postgres-started-by-us"

as_postgres() { su postgres -s /bin/sh -c "$*"; }

install_if_absent() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "Installing PostgreSQL from Debian's packages..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

version() { ls /etc/postgresql | sort -V | tail -n 1; }

cluster_online() { pg_lsclusters --no-header | awk -v v="$(version)" '$1==v && $2=="main" {print $4}' | grep -q online; }

start_cluster() {
  local v; v=$(version)
  if ! pg_lsclusters --no-header | awk '{print $1" "$2}' | grep -qx "$v main"; then
    pg_createcluster "$v" main >/dev/null
  fi
  if ! cluster_online; then
    pg_ctlcluster --skip-systemctl-redirect "$v" main start
    mkdir -p "$(dirname "$MARKER")" && touch "$MARKER"
  fi
  wait_ready
}

wait_ready() {
  for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 && return 0; sleep 0.1; done
  echo "PostgreSQL did not become ready" >&2; return 1
}

# The e2e stack runs four services (a pool of up to 20 each) beside the test's own pools: Debian's default of
# 100 connections is too tight, so a cluster we manage gets 300 (once; a restart applies it).
ensure_connections() {
  local now; now=$(as_postgres "psql -qtA -c 'SHOW max_connections'")
  if [ "$now" -lt 300 ] && [ -f "$MARKER" ]; then
    as_postgres "psql -qtA -c 'ALTER SYSTEM SET max_connections = 300'" >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$(version)" main restart
    wait_ready
  fi
}

# Group commit (issue 18): a committing backend waits up to 1 ms for others to share its WAL flush, only while
# at least commit_siblings (5) other transactions are open, so an unloaded commit is not delayed. synchronous_commit
# stays on. 32 connections committing one-row inserts: ~17% less backend CPU per commit (0.185-0.226 -> 0.155-0.188
# core-ms). A reload applies it; only on a cluster this script started (marker).
ensure_group_commit() {
  local now; now=$(as_postgres "psql -qtA -c 'SHOW commit_delay'")
  if [ "$now" != "1000" ] && [ -f "$MARKER" ]; then
    as_postgres "psql -qtA -c 'ALTER SYSTEM SET commit_delay = 1000' -c 'SELECT pg_reload_conf()'" >/dev/null
  fi
}

# The services reach the local cluster through its Unix socket (cheaper than loopback TCP for every round trip:
# about a quarter less CPU per transaction on both sides). Debian's pg_hba.conf admits local connections by
# peer authentication only; the app role gets password authentication there, above the catch-all line (once).
ensure_socket_auth() {
  local hba; hba=$(as_postgres "psql -qtA -c 'SHOW hba_file'")
  if ! grep -Eq "^local[[:space:]]+all[[:space:]]+$ROLE[[:space:]]+scram-sha-256" "$hba"; then
    sed -i "0,/^local[[:space:]]\+all[[:space:]]\+all[[:space:]]/s//local   all             $ROLE                                scram-sha-256\n&/" "$hba"
    as_postgres "psql -qtA -c 'SELECT pg_reload_conf()'" >/dev/null
  fi
}

create_role_and_databases() {
  as_postgres "psql -qtA -v ON_ERROR_STOP=1" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END \$\$;
-- lets the test harness drop its databases WITH (FORCE) even while an autovacuum worker is connected
GRANT pg_signal_backend TO $ROLE;
SQL
  for db in $DATABASES; do
    if [ -z "$(as_postgres "psql -qtA -c \"SELECT 1 FROM pg_database WHERE datname = '$db'\"")" ]; then
      as_postgres "createdb -O $ROLE $db"
    fi
  done
}

case "${1:-ensure}" in
  ensure)
    if [ -n "${DATABASE_URL:-}" ]; then echo "DATABASE_URL is set: using that server"; exit 0; fi
    install_if_absent
    start_cluster
    ensure_connections
    create_role_and_databases
    ensure_socket_auth
    ensure_group_commit
    echo "PostgreSQL ready: postgresql://$ROLE:***@%2Fvar%2Frun%2Fpostgresql/{${DATABASES// /,}} (Unix socket; TCP 127.0.0.1:5432)"
    ;;
  stop)
    if [ -f "$MARKER" ]; then pg_ctlcluster --skip-systemctl-redirect "$(version)" main stop && rm -f "$MARKER"; fi
    ;;
  status) pg_lsclusters ;;
  *) echo "usage: $0 ensure|stop|status" >&2; exit 2 ;;
esac
