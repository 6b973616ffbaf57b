#!/usr/bin/env bash
# Vouchers/s through haproxy with 1, 2 and 4 MASA instances on PostgreSQL,
# and straight to one instance, with bench/masa_load (keep-alive and a new
# connection per request). Starts its own cluster (scripts/cluster, 4
# instances) in a scratch directory and removes it at the end.
#
#   cmake --preset release && cmake --build --preset release --target vouchsafe masa_load
#   bench/cluster_load.sh [BUILD_DIR=build/release] [SECONDS=10 per mode]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
seconds=${2:-10}
dir=$(mktemp -d "${TMPDIR:-/tmp}/cluster-load.XXXXXX")
chmod 755 "$dir"
trap '"$root/scripts/cluster" down --dir "$dir/c" --purge >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$root/scripts/cluster" up --dir "$dir/c" --masas 4 --bin "$build/bin/vouchsafe" >/dev/null
# shellcheck disable=SC1091
. "$dir/c/cluster.env"

measure() {  # measure LABEL URL
  echo "=== $1"
  "$build/bin/masa_load" --url "$2" --ca "$dir/c/masa-home/masa/masa-ca.pem" \
    --registrars "$dir/c/owner/registrars" --seeds "$dir/c/factory/seeds.csv" \
    --devices "$dir/c/factory/devices.csv" --duration "$seconds" --concurrency 8 \
    --modes keep-alive,new-connection | grep -E '^== |vouchers/s|latency|by status' || true
}
ready_behind_haproxy() {  # until haproxy has N instances UP
  for _ in $(seq 1 40); do
    [ "$("$root/scripts/cluster" status --dir "$dir/c" | grep -o ' UP' | wc -l)" -eq "$1" ] && return 0
    sleep 0.25
  done
}
measure "direct to one instance (masa-1)" "https://127.0.0.1:$MASA_PORT_1"
measure "haproxy, 4 instances" "https://127.0.0.1:$HAPROXY_PORT"
"$root/scripts/cluster" stop-masa 4 --dir "$dir/c"
"$root/scripts/cluster" stop-masa 3 --dir "$dir/c"
ready_behind_haproxy 2
measure "haproxy, 2 instances" "https://127.0.0.1:$HAPROXY_PORT"
"$root/scripts/cluster" stop-masa 2 --dir "$dir/c"
ready_behind_haproxy 1
measure "haproxy, 1 instance" "https://127.0.0.1:$HAPROXY_PORT"
