#!/usr/bin/env bash
# Rollover without downtime: registrars keep requesting vouchers from a
# running MASA while `vouchsafe masa key rollover` makes a new signer under
# the same anchor. No request fails, the MASA switches keys without a
# restart, and vouchers signed with the old key still verify. Every
# request goes to 127.0.0.1; the load is bounded (2 x at most 300
# requests, stopped once the new key has served for a second).
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$lib/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$lib/masa_lib.sh"

make_manufacturer 1 2
make_owner
"$vs" masa init >/dev/null
sed -i 's/^refresh = .*/refresh = "200ms"/' home/masa.toml
check "the key refresh is configurable" 0 grep -q '^refresh = "200ms"' home/masa.toml
serve masa.log
masa_ca=home/masa/masa-ca.pem
pid_before=$masa_pid

load() {  # load DEVICE: sequential voucher requests until ./stop appears (at most 300)
  local n=$1 i=0
  while [ ! -e stop ] && [ "$i" -lt 300 ]; do
    i=$((i + 1))
    if "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
      --registrar-cert registrar.pem --registrar-key registrar.key \
      --pledge-cert dev$n.pem --pledge-key dev$n.key --form cms --out v$n-$i.cms 2>>load$n.err; then
      echo ok
    else
      echo failed
    fi
  done >load$n.out
}
load 1 & l1=$!
load 2 & l2=$!
sleep 1
check "rollover while requests are in flight" 0 "$vs" masa key rollover
# The load runs on until the MASA has switched keys and served a while
# with the new one, however fast this machine is.
for _ in $(seq 1 100); do
  grep -q "signing with the key recorded by rollover" masa.log && break
  sleep 0.1
done
sleep 1
touch stop
wait $l1 $l2
sent=$(cat load1.out load2.out | wc -l)
check "the load ran on both sides of the rollover ($sent requests)" 0 test "$sent" -ge 4
same "no request was lost" "$sent" "$(cat load1.out load2.out | grep -c '^ok$')"
check "the MASA was not restarted" 0 kill -0 $pid_before
check "it says it switched keys" 0 grep -q "signing with the key recorded by rollover" masa.log

signer_of() {  # the SHA-256 of a voucher's signer certificate
  "$vs" voucher inspect --json "$1" | $py -c 'import json,sys; print(json.load(sys.stdin)["signer_chain"][0]["sha256"])'
}
n1=$(wc -l <load1.out)
n2=$(wc -l <load2.out)
first=$(signer_of v1-1.cms)
last=$(signer_of "v1-$n1.cms")
check "the last vouchers are signed by a new key" 1 test "$first" = "$last"
old=$(openssl x509 -in home/masa/signing.pem -outform DER | sha256sum | cut -d' ' -f1)
same "the first by the old one" "$old" "$first"
for v in v1-1.cms "v1-$n1.cms" v2-1.cms "v2-$n2.cms"; do
  check "$v verifies with the unchanged anchor" 0 "$vs" voucher verify --anchor "$masa_ca" "$v"
done
check "openssl cms -verify accepts a new-key voucher" 0 \
  openssl cms -verify -binary -inform DER -in "v1-$n1.cms" -CAfile "$masa_ca" -purpose any -out /dev/null
same "readyz after the rollover" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$admin_port/readyz)"
kill -TERM $masa_pid; wait $masa_pid; masa_pid=
# A restarted MASA reads the rolled-over key from the store, and neither
# opens nor needs the configured key it replaced: that file no longer
# opens with the MASA's passphrase, and start-up does not stop on it.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc \
  -pass pass:not-the-masa-passphrase -out home/masa/signing.key.pem
serve masa2.log
check "after a restart, vouchers come from the new key" 0 "$vs" registrar request-voucher --masa-url "$url" \
  --masa-ca "$masa_ca" --registrar-cert registrar.pem --registrar-key registrar.key \
  --pledge-cert dev1.pem --pledge-key dev1.key --form cms --out after.cms
same "the same new key" "$last" "$(signer_of after.cms)"
kill -TERM $masa_pid; wait $masa_pid; masa_pid=
finish
