#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: `start DIR PORT` runs initdb
# into DIR and starts a server that listens only on a Unix socket in DIR/run
# (no TCP port to collide with, no password: trust for the socket, which only
# its owner may open); `stop DIR` stops it and deletes DIR. ctest runs these
# as the setup and cleanup of the "postgres" fixture; tests reach the server
# through VOUCHSAFE_TEST_POSTGRES_DSN ("host=DIR/run port=PORT user=postgres
# dbname=vouchsafe_test").
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}
[ $# -ge 2 ] || usage
action=$1
dir=$2

# pg_bindir, as_pg (the cluster directory is owned by the postgres user)
# shellcheck source=scripts/lib/postgres.sh
. "$(dirname "$0")/../../scripts/lib/postgres.sh"
bindir=$(pg_bindir) || exit 2

stop_cluster() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w -t 30 >/dev/null 2>&1 ||
      as_pg "$bindir/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case $action in
  start)
    [ $# -eq 3 ] || usage
    port=$3
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "postgres-cluster: running as root needs the 'postgres' system user;" \
        "install Debian's postgresql package (scripts/setup)" >&2
      exit 2
    fi
    # initdb and pg_ctl redirect their children to /dev/null; when something
    # has replaced the device by a file the postgres user cannot open, they
    # fail far from the cause.
    if [ ! -c /dev/null ]; then
      echo "postgres-cluster: /dev/null is not the null device ($(stat -c '%F, mode %a' /dev/null));" \
        "something removed it or renamed a file over it; restore it as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2
      exit 2
    fi
    stop_cluster  # left over from an interrupted run
    mkdir -p "$dir/run"
    chmod 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
    # --no-sync and fsync=off: the data is thrown away, only speed matters.
    # synchronous_commit stays on (the default) as in production.
    if ! as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-sync >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      exit 1
    fi
    if ! as_pg "$bindir/pg_ctl" start -D "$dir/data" -w -t 30 -l "$dir/server.log" \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir/run' -c port=$port \
          -c unix_socket_permissions=0700 -c fsync=off -c full_page_writes=off \
          -c max_connections=200" >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    as_pg "$bindir/createdb" -h "$dir/run" -p "$port" -U postgres vouchsafe_test
    echo "postgres-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')" \
      "at host=$dir/run port=$port"
    ;;
  stop)
    stop_cluster
    ;;
  *)
    usage
    ;;
esac
