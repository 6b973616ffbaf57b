#!/usr/bin/env bash
# Keys in custody, in one run: bench_keys (raw C_Sign on a SoftHSM2 token,
# one session per core and one shared; our PKCS#11 signer; software
# signing; a seed batch with its CA key on the token and in a file), then
# the MASA under load with its keys in files and on a token, each against
# its crypto bound (for the token, with the token's C_Sign rate in place of
# EVP_DigestSign). Everything on loopback, bounded by --duration.
#
#   cmake --preset release && cmake --build --preset release --target vouchsafe masa_load bench_keys
#   bench/keys_bench.sh [BUILD_DIR=build/release] [masa_load flags, e.g. --duration 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
[ $# -gt 0 ] && shift
echo "=== signers and the seed batch"
"$build/bin/bench_keys"
echo
echo "=== the MASA, keys in encrypted files"
"$root/bench/masa_load.sh" "$build" --modes keep-alive "$@"
echo
echo "=== the MASA, keys on a SoftHSM2 token"
KEY_STORE=softhsm "$root/bench/masa_load.sh" "$build" --modes keep-alive "$@"
