#!/usr/bin/env bash
# The benchmark scripts in a short, bounded form, so that a change that
# breaks them shows here rather than on the day a figure is needed:
# bench/masa_load.sh (three modes, at most 300 requests and 1 s each, with
# both TLS libraries' handshake floors, once on each library, the OpenSSL run
# with the MASA pinned to a core of its own) and bench/store_scale.sh (300 and 3,000
# devices in SQLite and in PostgreSQL, one 2 s load round each). Everything
# on loopback or a Unix socket; needs root for the PostgreSQL server
# (runuser), as the cluster test does.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
load=${MASA_LOAD_BIN:?set by ctest}
src=${VOUCHSAFE_SOURCE_DIR:?set by ctest}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# The scripts take a build directory and run bin/vouchsafe and bin/masa_load in it.
build=$(dirname "$(dirname "$vs")")
if [ ! "$build/bin/masa_load" -ef "$load" ]; then
  echo "FAIL: masa_load ($load) is not beside vouchsafe ($vs)"
  exit 1
fi
cd "$work" || exit 1
chmod 755 "$work"  # the postgres user walks into the store bench's data directory

check "masa_load.sh runs its three modes" 0 env TMPDIR="$work" "$src/bench/masa_load.sh" "$build" \
  --duration 1 --requests 300 --concurrency 4 --modes keep-alive,new-connection,resumed
cp out masa_load.out
check "on the MASA's default TLS library" 0 grep -q "^MASA: TLS on gnutls" masa_load.out
check "it measured OpenSSL's own handshake floor" 0 grep -q "^OpenSSL .* itself, server side" masa_load.out
check "and GnuTLS's" 0 grep -q "^GnuTLS .* itself, server side" masa_load.out
same "and set both handshake modes against GnuTLS's" 2 "$(grep -c "vs GnuTLS's own handshake" masa_load.out)"
check "the resumed mode resumed" 0 grep -Eq "[1-9][0-9]* resumed$" masa_load.out
# The OpenSSL run also pins the MASA and the client to cores of their own.
if [ "$(nproc)" -ge 2 ]; then
  check "masa_load.sh with the MASA on OpenSSL, pinned" 0 env TMPDIR="$work" TLS_LIBRARY=openssl PIN=1 \
    "$src/bench/masa_load.sh" "$build" --duration 1 --requests 300 --concurrency 4 --modes resumed
  cp out masa_load_openssl.out
  same "sets the mode against OpenSSL's floor" 1 "$(grep -c "vs OpenSSL's own handshake" masa_load_openssl.out)"
  check "and resumed on OpenSSL too" 0 grep -Eq "[1-9][0-9]* resumed$" masa_load_openssl.out
  last=$(($(nproc) - 1))
  check "the MASA ran on the last core" 0 grep -q "^MASA pinned to core $last, the load client to cores 0-$((last - 1))" masa_load_openssl.out
  check "as the kernel says" 0 grep -q "^MASA runs on cores: $last$" masa_load_openssl.out
  check "with one worker thread" 0 grep -q "^MASA: TLS on openssl, threads = 1$" masa_load_openssl.out
else
  check "PIN=1 on one core is refused" 2 env TMPDIR="$work" PIN=1 "$src/bench/masa_load.sh" "$build" \
    --duration 1 --requests 10 --modes keep-alive
fi

check "store_scale.sh on both backends" 0 env TMPDIR="$work" "$src/bench/store_scale.sh" "$build" \
  --large 3000 --small 300 --duration 2 --rounds 1
cp out scale.out
for backend in sqlite postgresql; do
  for n in 300 3000; do
    check "$backend with $n devices has its row" 0 grep -Eq "^$backend +$n +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[1-9][0-9]* +[0-9.]+$" scale.out
  done
done
same "a large-against-small line per backend" 2 "$(grep -c "large/small vouchers/s" scale.out)"
check "the stores and the PostgreSQL server are gone" 1 sh -c "ls -d $work/store-scale.* 2>/dev/null | grep -q ."

finish
