# Sourced by the scripts that run a throw-away PostgreSQL server of their
# own (scripts/cluster, scripts/faults, bench/store_scale.sh and the test
# suite's tests/support/postgres-cluster.sh).

# The server's binaries: Debian installs them outside PATH, one directory
# per major version; VOUCHSAFE_PG_BINDIR overrides. Prints the directory,
# or says what to install and returns 2.
pg_bindir() {
  local d=${VOUCHSAFE_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "no PostgreSQL server under /usr/lib/postgresql: install it with scripts/setup" \
      "(Debian package postgresql) or set VOUCHSAFE_PG_BINDIR" >&2
    return 2
  fi
  echo "$d"
}

# as_pg COMMAND...: initdb and postgres refuse to run as root; as root, run
# them as the postgres user Debian's package creates.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
