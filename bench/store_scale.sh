#!/usr/bin/env bash
# The asset store at a large maker's size: a seed batch of --large devices
# (default 10^7) and one of --small (default 10^4), in SQLite and in
# PostgreSQL; then, in the same run and back to back, the MASA on each store
# under the same keep-alive load, each request from a device drawn at random
# from the whole store. Prints, per backend: batch time and rate, bytes per
# device on disk, the MASA's start-up time, vouchers/s and p99 on the large
# store against the small one.
#
#   cmake --preset release && cmake --build --preset release --target vouchsafe masa_load
#   bench/store_scale.sh [BUILD_DIR=build/release] [options]
#
# Options:
#   --large N        devices in the large store (default 10000000)
#   --small N        devices in the small store (default 10000)
#   --backends LIST  sqlite,postgresql (default both)
#   --sample K       devices drawn at random from each store for the load
#                    (default and at most --small: both stores see the same
#                    number of distinct devices; each request costs a device
#                    lookup and an audit-log write whether its device repeats
#                    or not)
#   --duration S     seconds of load per store and round (default 20)
#   --rounds R       load rounds, alternating small and large (default 2;
#                    the best round of each is reported)
#   --concurrency C  connections of the load client (default 8)
#   --work DIR       keep the stores in DIR (created if missing) and reuse
#                    the batches already finished there: a second run only
#                    measures the load. Without it a temporary directory is
#                    used and removed.
#
# Space: about 1 KiB per device and backend (10^7 devices: some 20 GB for
# both, seeds included); time on 2 cores: the batch runs at the rate
# bench_factory reports, the load phase takes 2 x backends x rounds x S.
# PostgreSQL runs in the work directory on a Unix socket, with Debian's
# defaults (fsync on) but shared_buffers = 1GB.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/release
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  build=$1
  shift
fi
build=$(cd "$build" && pwd)
vs=$build/bin/vouchsafe
load=$build/bin/masa_load

large=10000000 small=10000 backends=sqlite,postgresql sample=10000 duration=20 rounds=2
concurrency=8 work=
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case $1 in
    --large) large=$2 ;;
    --small) small=$2 ;;
    --backends) backends=$2 ;;
    --sample) sample=$2 ;;
    --duration) duration=$2 ;;
    --rounds) rounds=$2 ;;
    --concurrency) concurrency=$2 ;;
    --work) work=$2 ;;
    *) usage ;;
  esac
  shift 2
done
for n in "$large" "$small" "$sample" "$rounds" "$concurrency"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "store_scale.sh: '$n' is not a positive count" >&2; exit 2; }
done
[ "$large" -le 99999999 ] || { echo "store_scale.sh: --large at most 99999999 (8-digit serials)" >&2; exit 2; }
for b in "$vs" "$load"; do
  [ -x "$b" ] || { echo "store_scale.sh: $b not built (see the header of $0)" >&2; exit 2; }
done

keep=0
if [ -n "$work" ]; then
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
  keep=1
else
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/store-scale.XXXXXX")
fi
chmod 755 "$work"

# shellcheck source=scripts/lib/postgres.sh
. "$root/scripts/lib/postgres.sh"  # pg_bindir, as_pg
pg_bin=
pg_dir=$work/pg
pg_port=5499
psql_do() { (cd / && as_pg "$pg_bin/psql" -X -A -t -q -h "$pg_dir/run" -p "$pg_port" -U postgres "$@"); }

masa_pid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$masa_pid" ]; then kill "$masa_pid" 2>/dev/null || true; wait "$masa_pid" 2>/dev/null || true; fi
  if [ -f "$pg_dir/data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" stop -D "$pg_dir/data" -m fast -w -t 60 >/dev/null 2>&1 || true
  fi
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "store_scale: $*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.9g\", ($1) }"; }  # calc EXPRESSION: floating point
since() { calc "$(now) - $1"; }

export VOUCHSAFE_CA_PASSPHRASE=bench-ca-passphrase
export VOUCHSAFE_MASA_PASSPHRASE=bench-masa-passphrase

# ---- inputs: seeds for each size, and the same number of devices drawn at
# random from each for the load
make_seeds() {  # make_seeds N FILE
  [ -s "$2" ] && return 0
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path + ".tmp", "w") as out:
    for start in range(1, n + 1, 100000):
        count = min(100000, n + 1 - start)
        hex_seeds = os.urandom(32 * count).hex()
        out.write("".join("WG-F1-%08d,%s\n" % (start + i, hex_seeds[64 * i:64 * i + 64])
                          for i in range(count)))
os.rename(path + ".tmp", path)
EOF
}
say "work directory $work"
make_seeds "$small" "$work/seeds-small.csv"
make_seeds "$large" "$work/seeds-large.csv"
[ "$sample" -le "$small" ] || sample=$small
for size in small large; do
  [ -s "$work/sample-$size-$sample.csv" ] || shuf -n "$sample" "$work/seeds-$size.csv" >"$work/sample-$size-$sample.csv"
done

# ---- the owner's registrars (TLS client certificates with id-kp-cmcRA)
if [ ! -s "$work/registrars/registrar-4.pem" ]; then
  mkdir -p "$work/registrars"
  (
    cd "$work/registrars"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout domain-ca.key \
      -subj "/O=Bench Owner/CN=Bench Domain CA" -days 30 -out domain-ca.pem 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=1.3.6.1.5.5.7.3.28,clientAuth\n' > ra.ext
    for i in 1 2 3 4; do
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "registrar-$i.key"
      openssl req -new -key "registrar-$i.key" -subj "/O=Bench Owner/CN=registrar-$i.owner.example" \
        -out "registrar-$i.csr"
      openssl x509 -req -in "registrar-$i.csr" -CA domain-ca.pem -CAkey domain-ca.key -days 30 \
        -set_serial "$((100 + i))" -extfile ra.ext -out "registrar-$i-ee.pem" 2>/dev/null
      cat "registrar-$i-ee.pem" domain-ca.pem > "registrar-$i.pem"
    done
  )
fi

# ---- PostgreSQL, when asked for
if [[ ,$backends, == *,postgresql,* ]]; then
  pg_bin=$(pg_bindir) || exit 2
  if [ ! -d "$pg_dir/data" ]; then
    mkdir -p "$pg_dir/run"
    [ "$(id -u)" -ne 0 ] || chown -R postgres: "$pg_dir"
    as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
    cat >>"$pg_dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$pg_dir/run'
unix_socket_permissions = 0700
port = $pg_port
shared_buffers = 1GB
max_wal_size = 4GB
EOF
  fi
  as_pg "$pg_bin/pg_ctl" start -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 120 >/dev/null
fi

store_of() {  # store_of BACKEND SIZE: the --store value ("" = the home's assets.db)
  if [ "$1" = postgresql ]; then echo "host=$pg_dir/run port=$pg_port user=postgres dbname=scale_$2"; fi
}

# ---- the batches: one home per backend and size
declare -A batch_seconds bytes_used
issue() {  # issue BACKEND SIZE COUNT
  local home=$work/$1-$2 store
  store=$(store_of "$1" "$2")
  if [ -f "$home/batch.done" ]; then
    say "$1 $2: batch already done ($(cut -d' ' -f1 "$home/batch.done") s)"
  else
    rm -rf "$home"
    mkdir -p "$home"
    if [ "$1" = postgresql ]; then
      psql_do -d postgres -c "DROP DATABASE IF EXISTS scale_$2" -c "CREATE DATABASE scale_$2"
    fi
    export VOUCHSAFE_HOME=$home/home VOUCHSAFE_STORE=$store
    "$vs" pki init --organization "Scale Devices" --masa-url 127.0.0.1 >/dev/null
    "$vs" pki issuing-ca create --name f1 --product widget >/dev/null
    say "$1 $2: issuing $3 devices..."
    local started
    started=$(now)
    "$vs" idevid batch --product widget --seeds "$work/seeds-$2.csv" --quiet >"$home/batch.log"
    echo "$(since "$started") seconds" >"$home/batch.done"
    "$vs" masa init >/dev/null
    sed -i -e 's/^rate_per_second = .*/rate_per_second = 1000000/' \
      -e 's/^rate_burst = .*/rate_burst = 1000000/' "$home/home/masa.toml"
    say "$1 $2: batch took $(cut -d' ' -f1 "$home/batch.done") s"
  fi
  # Bytes on disk right after the batch, before any load adds audit entries.
  if [ ! -s "$home/bytes" ]; then
    if [ "$1" = postgresql ]; then
      psql_do -d postgres -c "CHECKPOINT" >/dev/null
      psql_do -d "scale_$2" -c "SELECT pg_database_size(current_database())" >"$home/bytes"
    else
      du -cb "$home/home/assets.db"* | tail -n 1 | cut -f1 >"$home/bytes"
    fi
  fi
  batch_seconds[$1-$2]=$(cut -d' ' -f1 "$home/batch.done")
  bytes_used[$1-$2]=$(cat "$home/bytes")
  # The load's devices: the sample's IDevIDs, found by serial.
  if [ ! -s "$home/sample-devices-$sample.csv" ]; then
    cut -d, -f1 "$work/sample-$2-$sample.csv" >"$home/sample.serials"
    VOUCHSAFE_HOME=$home/home VOUCHSAFE_STORE=$store "$vs" device export --format csv \
      --serials "$home/sample.serials" --out "$home/sample-devices-$sample.csv"
  fi
}

IFS=, read -r -a backend_list <<<"$backends"
for b in "${backend_list[@]}"; do
  case $b in sqlite | postgresql) ;; *) say "unknown backend $b (sqlite, postgresql)"; exit 2 ;; esac
  issue "$b" small "$small"
  issue "$b" large "$large"
done

# ---- the load: the MASA on each store in turn, same client and settings
declare -A best_rate best_p99 startup
serve_and_load() {  # serve_and_load BACKEND SIZE
  local home=$work/$1-$2 store port started out rate p99
  store=$(store_of "$1" "$2")
  rm -f "$home/ready"
  started=$(now)
  VOUCHSAFE_HOME=$home/home VOUCHSAFE_STORE=$store \
    "$vs" masa serve --config "$home/home/masa.toml" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    --ready-file "$home/ready" >"$home/masa.log" 2>&1 &
  masa_pid=$!
  for _ in $(seq 1 600); do [ -s "$home/ready" ] && break; sleep 0.05; done
  [ -s "$home/ready" ] || { say "the MASA did not start:"; cat "$home/masa.log" >&2; exit 2; }
  local up
  up=$(since "$started")
  if [ -z "${startup[$1-$2]:-}" ] || [ "$(calc "$up < ${startup[$1-$2]}")" = 1 ]; then
    startup[$1-$2]=$up
  fi
  read -r port _ <"$home/ready"
  out=$("$load" --url "https://127.0.0.1:$port" --ca "$home/home/masa/masa-ca.pem" \
    --registrars "$work/registrars" --seeds "$work/sample-$2-$sample.csv" --devices "$home/sample-devices-$sample.csv" \
    --server-pid "$masa_pid" --modes keep-alive --duration "$duration" --requests 100000 \
    --concurrency "$concurrency")
  echo "$out" >>"$home/load.log"
  kill "$masa_pid"
  wait "$masa_pid" 2>/dev/null || true
  masa_pid=
  rate=$(echo "$out" | awk '/vouchers\/s:/ {print $2}')
  p99=$(echo "$out" | awk '/latency:/ {gsub(",", ""); print $6}')
  say "$1 $2: $rate vouchers/s, p99 $p99 ms, start-up $up s"
  if [ -z "${best_rate[$1-$2]:-}" ] || [ "$(calc "$rate > ${best_rate[$1-$2]}")" = 1 ]; then
    best_rate[$1-$2]=$rate
    best_p99[$1-$2]=$p99
  fi
}
for _ in $(seq 1 "$rounds"); do
  for b in "${backend_list[@]}"; do
    serve_and_load "$b" small
    serve_and_load "$b" large
  done
done

printf '\n%-11s %11s %10s %12s %9s %12s %10s %12s\n' store devices batch_s devices/s B/device \
  start-up_s vouchers/s p99_ms
for b in "${backend_list[@]}"; do
  for s in small large; do
    n=$([ $s = small ] && echo "$small" || echo "$large")
    printf '%-11s %11d %10.1f %12.0f %9.0f %12.2f %10.0f %12.2f\n' "$b" "$n" \
      "${batch_seconds[$b-$s]}" "$(calc "$n / ${batch_seconds[$b-$s]}")" \
      "$(calc "${bytes_used[$b-$s]} / $n")" "${startup[$b-$s]}" \
      "${best_rate[$b-$s]}" "${best_p99[$b-$s]}"
  done
  printf '  %s: large/small vouchers/s %.1f%%, p99 %.1f%%; marginal %.0f bytes per device\n' "$b" \
    "$(calc "100 * ${best_rate[$b-large]} / ${best_rate[$b-small]}")" \
    "$(calc "100 * ${best_p99[$b-large]} / ${best_p99[$b-small]}")" \
    "$(calc "(${bytes_used[$b-large]} - ${bytes_used[$b-small]}) / ($large - $small)")"
done
