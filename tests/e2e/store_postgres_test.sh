#!/usr/bin/env bash
# One asset store for every command (issue 12): with VOUCHSAFE_STORE naming
# a PostgreSQL database, the factory commands issue into it and a MASA on
# that store serves the devices; a MASA refuses a schema it would have to
# migrate until `masa migrate` has run once; `store copy` moves a home's
# SQLite store into an empty database, and refuses one that is not.
# A throw-away PostgreSQL cluster on a Unix socket; stops by itself.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
pg_dir=/tmp/vouchsafe-e2e-pg-$$
pg_port=5433
# shellcheck source=tests/e2e/masa_lib.sh
. "$here/masa_lib.sh"
trap '[ -n "$masa_pid" ] && kill -9 $masa_pid 2>/dev/null; bash "$here/../support/postgres-cluster.sh" stop "$pg_dir"; rm -rf "$work"' EXIT

bash "$here/../support/postgres-cluster.sh" start "$pg_dir" "$pg_port" >/dev/null || exit 1
dsn() { echo "host=$pg_dir/run port=$pg_port user=postgres dbname=$1"; }
sql() {  # sql DB QUERY: one value
  (cd / && runuser -u postgres -- psql -h "$pg_dir/run" -p "$pg_port" -d "$1" -Atc "$2")
}
for db in assets empty copied; do
  (cd / && runuser -u postgres -- createdb -h "$pg_dir/run" -p "$pg_port" "$db")
done

# --- the factory writes into PostgreSQL: nothing lands in the home's file
export VOUCHSAFE_STORE
VOUCHSAFE_STORE=$(dsn assets)
make_manufacturer 1 2
make_owner
check "no SQLite store was made in the home" 1 test -e home/assets.db
same "both devices are in PostgreSQL" "$(sql assets 'SELECT count(*) FROM device')" 2
seeds() {  # seeds FACTORY N: a silicon vendor's seeds file
  local i
  for i in $(seq 1 "$2"); do printf 'WG-%s-%08d,%s\n' "$1" "$i" "$(openssl rand -hex 32)"; done
}
seeds B 5 > seeds-b.csv
check "a seed batch issues into PostgreSQL" 0 "$vs" idevid batch --product widget \
  --seeds seeds-b.csv --quiet
same "the batch's devices are in PostgreSQL" "$(sql assets 'SELECT count(*) FROM device')" 7
check "device list reads PostgreSQL" 0 "$vs" device list
check "  and lists a batch device" 0 grep -q "WG-B-" "$work/out"

# --- a MASA on that store serves them, and writes its audit log there
check "masa init" 0 "$vs" masa init
serve masa.log
check "the MASA started on the PostgreSQL store" 0 test -n "$port"
check "a voucher for WG-F1-00000001" 0 "$vs" registrar request-voucher --masa-url "$url" \
  --masa-ca home/masa/masa-ca.pem --registrar-cert registrar.pem --registrar-key registrar.key \
  --pledge-cert dev1.pem --pledge-key dev1.key --form cms --out v1.cms
same "its audit entry is in PostgreSQL" \
  "$(sql assets "SELECT count(*) FROM audit_entry WHERE serial = 'WG-F1-00000001'")" 1
kill "$masa_pid"; wait "$masa_pid" 2>/dev/null; masa_pid=

# --- an instance never migrates a shared schema: `masa migrate` does, once
check "masa serve refuses an unmigrated PostgreSQL store" 2 "$vs" masa serve \
  --listen 127.0.0.1:0 --admin 127.0.0.1:0 --store "$(dsn empty)"
check "  and says to run masa migrate" 0 grep -q "vouchsafe masa migrate" "$work/err"
same "  and ran no DDL" "$(sql empty "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" 0
check "masa migrate" 0 "$vs" masa migrate --store "$(dsn empty)"
check "  reports the versions" 0 grep -q "from schema version 0 to" "$work/out"
check "masa migrate again changes nothing" 0 "$vs" masa migrate --store "$(dsn empty)"
check "  and says so" 0 grep -q "nothing to do" "$work/out"

# --- store copy: a home's SQLite store into an empty database
unset VOUCHSAFE_STORE
export VOUCHSAFE_HOME=$work/home2
"$vs" pki init --organization "Copy Devices" --masa-url 127.0.0.1 >/dev/null
"$vs" pki issuing-ca create --name f2 --product widget >/dev/null
seeds C 3 > seeds-c.csv
"$vs" idevid batch --product widget --seeds seeds-c.csv --quiet >/dev/null
check "the second home's store is its SQLite file" 0 test -s home2/assets.db
check "store copy --to an empty database" 0 "$vs" store copy --to "$(dsn copied)"
check "  prints the verified row counts" 0 grep -Eq "device +3" "$work/out"
same "  the devices are in PostgreSQL" "$(sql copied 'SELECT count(*) FROM device')" 3
check "a second copy is refused (the target is not empty)" 2 "$vs" store copy --to "$(dsn copied)"
check "  with the reason" 0 grep -q "not empty" "$work/err"
same "  and nothing was added" "$(sql copied 'SELECT count(*) FROM device')" 3
check "store copy refuses a target that is not PostgreSQL" 2 "$vs" store copy --to other.db
check "--store selects the copied store for any command" 0 "$vs" device list --store "$(dsn copied)"
check "  which lists the copied devices" 0 grep -q "WG-C-" "$work/out"
check "a bad --store names the problem" 2 "$vs" device list --store "host=$pg_dir/run port=$pg_port user=postgres dbname=nosuch"
check "  (the database)" 0 grep -q "nosuch" "$work/err"

finish
