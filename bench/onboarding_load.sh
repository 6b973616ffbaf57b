#!/usr/bin/env bash
# Sets up a throw-away manufacturer (PKI, seed-derived devices), its MASA
# and an owner's registrar on loopback (SQLite stores, rate limits out of
# the way), runs bench/onboarding_load against them, and stops and removes
# everything at the end.
#
#   cmake --preset release && cmake --build --preset release --target vouchsafe onboarding_load
#   bench/onboarding_load.sh [BUILD_DIR=build/release] [onboarding_load flags...]
#   e.g. bench/onboarding_load.sh build/release --concurrency 32
#
# Environment:
#   DEVICES  default 400: one onboarding each, every one a device the
#            registrar and the MASA have not seen.
#   TMPDIR   where the homes and their SQLite stores live; TMPDIR=/dev/shm
#            takes the disk's fsync out of the measurement.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
[ $# -gt 0 ] && shift
vs=$build/bin/vouchsafe
load=$build/bin/onboarding_load
for b in "$vs" "$load"; do
  [ -x "$b" ] || { echo "onboarding_load.sh: $b not built (see the header of $0)" >&2; exit 2; }
done
devices=${DEVICES:-400}

work=$(mktemp -d "${TMPDIR:-/tmp}/onboarding-load.XXXXXX")
masa_pid= reg_pid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for p in $reg_pid $masa_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

export VOUCHSAFE_HOME=$work/home
export VOUCHSAFE_CA_PASSPHRASE=bench-ca-passphrase
export VOUCHSAFE_MASA_PASSPHRASE=bench-masa-passphrase
export VOUCHSAFE_REGISTRAR_PASSPHRASE=bench-registrar-passphrase

echo "set-up in $work: $devices devices" >&2
"$vs" pki init --organization "Bench Devices" --masa-url 127.0.0.1 >/dev/null
"$vs" pki issuing-ca create --name f1 --product widget >/dev/null
for i in $(seq 1 "$devices"); do
  printf 'WG-F1-%08d,%s\n' "$i" "$(openssl rand -hex 32)"
done > seeds.csv
"$vs" idevid batch --product widget --seeds seeds.csv --quiet >/dev/null
"$vs" device export --format csv --out devices.csv

start() {  # start NAME COMMAND...: run until killed; sets the NAME's port and pid
  local name=$1; shift
  rm -f "$name.ready"
  "$@" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file "$name.ready" >"$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do [ -s "$name.ready" ] && break; sleep 0.1; done
  [ -s "$name.ready" ] || { echo "onboarding_load.sh: $name did not start:" >&2; cat "$name.log" >&2; exit 2; }
  eval "${name}_pid=$pid"
  read -r port _ < "$name.ready"
  eval "${name}_port=$port"
}

# The MASA, every client from 127.0.0.1 and no effective rate limit.
"$vs" masa init >/dev/null
sed -i -e 's/^rate_per_second = .*/rate_per_second = 1000000/' \
  -e 's/^rate_burst = .*/rate_burst = 1000000/' \
  -e 's/^max_connections_per_address = .*/max_connections_per_address = 1024/' \
  -e 's/^max_connections_per_prefix = .*/max_connections_per_prefix = 1024/' "$VOUCHSAFE_HOME/masa.toml"
start masa "$vs" masa serve
# The registrar: pledges from one address, many at once.
"$vs" registrar init --home reg --organization "Bench Owner" \
  --manufacturer-anchor home/certs/root-ca.pem --manufacturer-anchor home/certs/issuing-f1.pem \
  --masa-ca home/masa/masa-ca.pem --masa-url "https://127.0.0.1:$masa_port" >/dev/null
sed -i -e 's/^address_rate_multiple = .*/address_rate_multiple = 1000000/' \
  -e 's/^prefix_rate_multiple = .*/prefix_rate_multiple = 1000000/' \
  -e 's/^max_connections_per_address = .*/max_connections_per_address = 1024/' reg/registrar.toml
start reg "$vs" registrar serve --home reg

status=0
"$load" --registrar "127.0.0.1:$reg_port" --masa-anchor home/masa/masa-ca.pem --seeds seeds.csv \
  --devices devices.csv --registrar-pid "$reg_pid" --masa-pid "$masa_pid" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- last lines of the registrar log" >&2; tail -n 20 reg.log >&2
  echo "--- last lines of the MASA log" >&2; tail -n 20 masa.log >&2
fi
exit "$status"
