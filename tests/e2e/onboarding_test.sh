#!/usr/bin/env bash
# Onboarding end to end over real TLS on loopback: our pledge, our
# registrar and our MASA, for a device of each kind of key (made on the
# device, a PKCS#12 bundle, a seed, DICE), in each voucher form; what the
# pledge writes, what `registrar status` shows, and the admin listener.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
# shellcheck source=tests/e2e/onboarding_lib.sh
. "$(dirname "$0")/onboarding_lib.sh"
export VOUCHSAFE_BUNDLE_PASSPHRASE=bundle-test-passphrase

make_manufacturer 1 2 3
# A key made off the device, in a PKCS#12 bundle; keys derived from seeds,
# one set bound to a firmware image (DICE).
"$vs" idevid issue --generate --serial WG-F1-00000005 --out dev5.p12 >/dev/null 2>&1
for i in 6 7; do echo "WG-F1-0000000$i,$(openssl rand -hex 32)"; done > seeds.csv
"$vs" idevid batch --product widget --seeds seeds.csv >/dev/null 2>&1
head -c 4096 /dev/urandom > firmware.bin
echo "WG-F1-00000008,$(openssl rand -hex 32)" > dice.csv
"$vs" idevid batch --product widget --seeds dice.csv --firmware firmware.bin >/dev/null 2>&1
for i in 6 7 8; do "$vs" device show WG-F1-0000000$i --pem > dev$i.pem; done

start_masa
check "registrar init" 0 start_registrar reg
check "registrar init again changes nothing" 0 sh -c "\"$vs\" registrar init --home reg | grep -q 'nothing changed'"
check "the registrar's keys are encrypted" 0 grep -q "ENCRYPTED PRIVATE KEY" reg/keys/registrar.key.pem reg/keys/domain-ca.key.pem
same "the registrar's store is private" 600 "$(stat -c %a reg/registrar.db)"

# --- each key source onboards, and gets an LDevID of the domain
check "a key made on the device (CSR)" 0 pledge 1 out1
check "it says what it got" 0 grep -q "WG-F1-00000001: onboarded; LDevID subject serialNumber=WG-F1-00000001" out
check "the LDevID chains to the domain CA it wrote" 0 openssl verify -CAfile out1/domain-ca.pem out1/ldevid.pem
check "the LDevID chains to the registrar's domain CA" 0 openssl verify -CAfile reg/certs/domain-ca.pem out1/ldevid.pem
check "the LDevID key is encrypted" 0 grep -q "ENCRYPTED PRIVATE KEY" out1/ldevid.key.pem
same "and private" 600 "$(stat -c %a out1/ldevid.key.pem)"
check "the LDevID key opens with the pledge passphrase and is the LDevID's" 0 sh -c \
  "[ \"\$(openssl pkey -in out1/ldevid.key.pem -passin env:VOUCHSAFE_PLEDGE_PASSPHRASE -pubout)\" = \"\$(openssl x509 -in out1/ldevid.pem -noout -pubkey)\" ]"
check "the voucher it kept verifies with openssl" 0 \
  openssl cms -verify -binary -inform DER -in out1/voucher.cms -CAfile "$masa_ca" -purpose any -out /dev/null
check "a PKCS#12 bundle" 0 "$vs" pledge bootstrap --registrar "$registrar" --pkcs12 dev5.p12 \
  --masa-anchor "$masa_ca" --out out5
check "a seed from the vendor's seeds file" 0 "$vs" pledge bootstrap --registrar "$registrar" \
  --idevid dev6.pem --seed-file seeds.csv --masa-anchor "$masa_ca" --out out6
grep WG-F1-00000007 seeds.csv | cut -d, -f2 > seed7.hex
check "a lone hex seed" 0 "$vs" pledge bootstrap --registrar "$registrar" --idevid dev7.pem \
  --seed-file seed7.hex --masa-anchor "$masa_ca" --out out7
check "DICE: the seed and the firmware" 0 "$vs" pledge bootstrap --registrar "$registrar" \
  --idevid dev8.pem --seed-file dice.csv --firmware firmware.bin --masa-anchor "$masa_ca" --out out8
head -c 4096 /dev/urandom > other-firmware.bin
check "DICE with other firmware: another key, refused before any exchange" 2 "$vs" pledge bootstrap \
  --registrar "$registrar" --idevid dev8.pem --seed-file dice.csv --firmware other-firmware.bin \
  --masa-anchor "$masa_ca" --out out8b
check "which it says" 0 grep -q "another firmware image" err

# --- voucher forms, and the MASA's key as firmware holds it (bare)
openssl x509 -in home/masa/signing.pem -noout -pubkey > masa.pub
for form in jws cose; do
  check "a $form voucher, the MASA's bare key as anchor" 0 "$vs" pledge bootstrap \
    --registrar "$registrar" --idevid dev2.pem --key dev2.key --masa-pubkey masa.pub \
    --form $form --out out2-$form
done
check "the cose voucher was kept" 0 test -s out2-cose/voucher.cose
check "JSON output" 0 sh -c "\"$vs\" pledge bootstrap --registrar $registrar --idevid dev3.pem --key dev3.key --masa-anchor $masa_ca --out out3 --json | $py -c 'import json,sys; r=json.load(sys.stdin); assert r[\"onboarded\"] and r[\"serial\"]==\"WG-F1-00000003\" and \"Domain CA\" in r[\"ldevid_issuer\"], r'"

# --- what the registrar saw
check "registrar status SERIAL" 0 sh -c "\"$vs\" registrar status --home reg WG-F1-00000001 > status.txt"
for step in voucher-request voucher-forwarded voucher-status ldevid-issued enroll-status; do
  check "status shows $step" 0 grep -q "$step" status.txt
done
check "status --json lists the voucher and the LDevID" 0 sh -c "\"$vs\" registrar status --home reg WG-F1-00000005 --json | $py -c 'import json,sys; s=json.load(sys.stdin); assert s[\"state\"]==\"enroll-status\" and len(s[\"vouchers\"])==1 and len(s[\"ldevids\"])==1, s'"
check "status lists every pledge" 0 sh -c "[ \$(\"$vs\" registrar status --home reg | wc -l) -eq 7 ]"
check "an unknown serial" 1 "$vs" registrar status --home reg WG-F1-99999999

# --- the admin listener
same "healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$reg_admin/healthz)"
same "readyz" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$reg_admin/readyz)"
check "metrics count the EST requests" 0 sh -c "curl -s http://127.0.0.1:$reg_admin/metrics | grep 'vouchsafe_http_requests_total' | grep -q simpleenroll"

for cmd in "registrar init" "registrar serve" "registrar status" "pledge" "pledge bootstrap"; do
  # shellcheck disable=SC2086
  check "help of '$cmd' has exit codes" 0 sh -c "\"$vs\" $cmd --help | grep -q 'EXIT CODES'"
done
check "no registrar configuration: exit 2 and the way out" 2 "$vs" registrar serve --home nowhere
check "which it names" 0 grep -q "registrar init" err

stop_registrar
stop_masa
check "the registrar stops on SIGTERM" 0 grep -q "Registrar stopping" reg.log
finish
