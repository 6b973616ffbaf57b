#!/usr/bin/env bash
# Sets up a throw-away manufacturer (PKI, seed-derived devices), an owner
# with N registrars, and a MASA on loopback with its SQLite store and no
# effective rate limit; runs bench/masa_load against it in keep-alive,
# new-connection and resumed modes (the handshake modes set against the
# floor of the MASA's TLS library, measured in the same run); stops the
# MASA and removes everything at the end.
#
#   cmake --preset release && cmake --build --preset release --target vouchsafe masa_load
#   bench/masa_load.sh [BUILD_DIR=build/release] [masa_load flags...]
#   e.g. bench/masa_load.sh build/release --duration 10 --concurrency 16
#
# Environment:
#   DEVICES     default 256: devices repeat, so each IDevID is decoded and
#               validated once; DEVICES >= --requests makes every request
#               come from a device not seen before, as in the field.
#   REGISTRARS  default 8.
#   KEY_STORE   softhsm: every CA and MASA key on a throw-away SoftHSM2
#               token, and the bound computed with the token's C_Sign rate
#               (measured by bench_keys) in place of EVP_DigestSign.
#   TLS_LIBRARY the MASA's [tls] library, gnutls or openssl; default: what
#               `masa init` writes.
#   THREADS     the MASA's worker threads; default: what `masa init` writes
#               (0: one per core), 1 with PIN.
#   PIN         1: the MASA on the last core alone (one worker thread unless
#               THREADS says otherwise), the load client on the others, so
#               that neither takes the other's caches and time slices; the
#               per-MASA-CPU figures then measure the MASA as on a host of
#               its own. Needs 2 cores or more.
#   TMPDIR      where the throw-away home and its SQLite store live;
#               TMPDIR=/dev/shm takes the disk's fsync out of the
#               measurement, to tell store I/O from CPU.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
[ $# -gt 0 ] && shift
vs=$build/bin/vouchsafe
load=$build/bin/masa_load
for b in "$vs" "$load"; do
  [ -x "$b" ] || { echo "masa_load.sh: $b not built (see the header of $0)" >&2; exit 2; }
done
devices=${DEVICES:-256}
registrars=${REGISTRARS:-8}

work=$(mktemp -d "${TMPDIR:-/tmp}/masa-load.XXXXXX")
masa_pid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$masa_pid" ]; then kill "$masa_pid" 2>/dev/null || true; wait "$masa_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

export VOUCHSAFE_HOME=$work/home
export VOUCHSAFE_CA_PASSPHRASE=bench-ca-passphrase
export VOUCHSAFE_MASA_PASSPHRASE=bench-masa-passphrase

key_store_flags=()
load_flags=()
if [ "${KEY_STORE:-}" = softhsm ]; then
  mkdir -p softhsm/tokens
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$work/softhsm/tokens" > softhsm/softhsm2.conf
  export SOFTHSM2_CONF=$work/softhsm/softhsm2.conf
  softhsm2-util --init-token --free --label masa-bench --pin bench-pin --so-pin bench-so >/dev/null
  echo bench-pin > softhsm/pin
  store="pkcs11:token=masa-bench?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:$work/softhsm/pin"
  key_store_flags=(--key-store "$store")
  rate=$("$build/bin/bench_keys" --csign-rate "$store" --seconds 3)
  load_flags=(--token-sign-rate "$rate")
  echo "keys on a SoftHSM2 token; its raw C_Sign rate: $rate/s" >&2
fi
echo "set-up in $work: $devices devices, $registrars registrars" >&2
# --- the manufacturer: devices whose keys derive from seeds (the client
# derives the same keys, as the devices would)
"$vs" pki init --organization "Bench Devices" --masa-url 127.0.0.1 "${key_store_flags[@]}" >/dev/null
"$vs" pki issuing-ca create --name f1 --product widget "${key_store_flags[@]}" >/dev/null
for i in $(seq 1 "$devices"); do
  printf 'WG-F1-%08d,%s\n' "$i" "$(openssl rand -hex 32)"
done > seeds.csv
"$vs" idevid batch --product widget --seeds seeds.csv --quiet >/dev/null
"$vs" device export --format csv --out devices.csv

# --- the owner: a domain CA and registrars with id-kp-cmcRA (also their TLS
# client certificates; the MASA tells callers apart by fingerprint)
mkdir registrars
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout domain-ca.key \
  -subj "/O=Bench Owner/CN=Bench Domain CA" -days 2 -out domain-ca.pem 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=1.3.6.1.5.5.7.3.28,clientAuth,serverAuth\nsubjectKeyIdentifier=hash\n' > ra.ext
for i in $(seq 1 "$registrars"); do
  r=registrars/registrar-$i
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$r.key"
  openssl req -new -key "$r.key" -subj "/O=Bench Owner/CN=registrar-$i.owner.example" -out "$r.csr"
  openssl x509 -req -in "$r.csr" -CA domain-ca.pem -CAkey domain-ca.key -days 2 -set_serial "$((100 + i))" \
    -extfile ra.ext -out "$r-ee.pem" 2>/dev/null
  cat "$r-ee.pem" domain-ca.pem > "$r.pem"
done

# --- the MASA: embedded default (SQLite), rate limits out of the way
"$vs" masa init "${key_store_flags[@]}" >/dev/null
config=$VOUCHSAFE_HOME/masa.toml
# All load comes from 127.0.0.1: the per-address and per-prefix connection
# caps go up to the total.
sed -i -e 's/^rate_per_second = .*/rate_per_second = 1000000/' \
  -e 's/^rate_burst = .*/rate_burst = 1000000/' \
  -e 's/^max_connections_per_address = .*/max_connections_per_address = 1024/' \
  -e 's/^max_connections_per_prefix = .*/max_connections_per_prefix = 1024/' "$config"
grep -q '^rate_per_second = 1000000' "$config" || { echo "masa_load.sh: cannot raise the rate limit" >&2; exit 2; }
if [ -n "${TLS_LIBRARY:-}" ]; then
  sed -i -e "s/^library = .*/library = \"$TLS_LIBRARY\"/" "$config"
  grep -q "^library = \"$TLS_LIBRARY\"" "$config" || { echo "masa_load.sh: cannot set the TLS library" >&2; exit 2; }
fi
masa_cpus=()
load_cpus=()
if [ "${PIN:-0}" = 1 ]; then
  cores=$(nproc)
  [ "$cores" -ge 2 ] || { echo "masa_load.sh: PIN=1 needs 2 cores or more" >&2; exit 2; }
  masa_cpus=(taskset -c "$((cores - 1))")
  load_cpus=(taskset -c "0-$((cores - 2))")
  THREADS=${THREADS:-1}
  echo "MASA pinned to core $((cores - 1)), the load client to cores 0-$((cores - 2))"
fi
if [ -n "${THREADS:-}" ]; then
  sed -i -e "s/^threads = .*/threads = $THREADS/" "$config"
fi
tls_library=$(sed -n 's/^library = "\(.*\)"/\1/p' "$config")
echo "MASA: TLS on $tls_library, threads = $(sed -n 's/^threads = //p' "$config")"
"${masa_cpus[@]}" "$vs" masa serve --config "$config" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file ready \
  >masa.log 2>&1 &
masa_pid=$!
for _ in $(seq 1 100); do [ -s ready ] && break; sleep 0.1; done
[ -s ready ] || { echo "masa_load.sh: the MASA did not start:" >&2; cat masa.log >&2; exit 2; }
read -r port _ < ready
if [ ${#masa_cpus[@]} -gt 0 ]; then
  echo "MASA runs on cores: $(taskset -cp "$masa_pid" | sed 's/.*: //')"
fi

status=0
"${load_cpus[@]}" "$load" --url "https://127.0.0.1:$port" --ca "$VOUCHSAFE_HOME/masa/masa-ca.pem" \
  --registrars registrars --seeds seeds.csv --devices devices.csv --server-pid "$masa_pid" \
  --tls-library "$tls_library" "${load_flags[@]}" "$@" \
  || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- last lines of the MASA log" >&2
  tail -n 20 masa.log >&2
fi
exit "$status"
