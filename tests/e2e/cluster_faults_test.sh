#!/usr/bin/env bash
# The short fault run of issue 12: two MASA instances on a PostgreSQL
# primary and replica behind haproxy, all on loopback, under 20 s of load
# from four registrar clients, through a MASA kill, a primary restart, a
# fail-over, terminated sessions and a full disk under a SQLite MASA.
# scripts/faults asserts the invariants (one audit entry per voucher, a
# voucher or 503 with Retry-After for every request, every instance serving
# again) and always removes its cluster. Needs root (tmpfs, runuser).
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
load=${MASA_LOAD_BIN:?set by ctest}
src=${VOUCHSAFE_SOURCE_DIR:?set by ctest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # the postgres user walks into its data directories

"$src/scripts/faults" --up --dir "$work/cluster" --masas 2 --duration 20 --clients 4 --rate 40 \
  --bin "$vs" --load-bin "$load"
