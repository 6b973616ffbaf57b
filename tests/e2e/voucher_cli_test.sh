#!/usr/bin/env bash
# The `vouchsafe voucher` commands as an operator runs them, and what they
# sign checked by implementations we did not write: `openssl cms -verify`,
# and Python verifiers built on Debian's python3-cryptography / python3-cbor2.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
vectors=${VOUCHSAFE_VECTORS_DIR:?set by ctest}
src=${VOUCHSAFE_SOURCE_DIR:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export VOUCHSAFE_KEY_PASSPHRASE=e2e-test-passphrase
pass=env:VOUCHSAFE_KEY_PASSPHRASE
cd "$work"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass $pass -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -passin $pass -subj "/CN=E2E CA" -days 30 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out ca.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass $pass -out masa.key 2>/dev/null
openssl req -new -key masa.key -passin $pass -subj "/CN=E2E MASA" -out masa.csr
openssl x509 -req -in masa.csr -CA ca.pem -CAkey ca.key -passin $pass -days 30 -set_serial 7 \
  -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n') \
  -out masa.pem 2>/dev/null
openssl x509 -in masa.pem -pubkey -noout > masa.pub
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -subj "/CN=Other CA" -days 30 -out other.pem 2>/dev/null
cat > voucher.json <<JSON
{"ietf-voucher:voucher": {"created-on": "2026-11-01T10:00:00Z", "assertion": "proximity",
  "serial-number": "E2E-0001", "nonce": "AAECAwQFBgcICQoLDA0ODw==",
  "pinned-domain-cert": "$(openssl x509 -in other.pem -outform DER | base64 -w0)"}}
JSON

for form in cms cose jws; do
  check "sign $form" 0 "$vs" voucher sign --key masa.key --cert masa.pem --chain ca.pem \
    --form $form --out v.$form voucher.json
  check "verify $form with the anchor" 0 "$vs" voucher verify --anchor ca.pem v.$form
  check "verify $form with the pinned key" 0 "$vs" voucher verify --pubkey masa.pub v.$form
  check "verify $form with another anchor fails" 1 "$vs" voucher verify --anchor other.pem v.$form
  check "inspect $form" 0 "$vs" voucher inspect --json v.$form
  check "inspect $form shows the serial" 0 grep -q E2E-0001 out
done

# Interop: implementations we did not write accept what we signed.
check "openssl cms -verify accepts our CMS voucher" 0 \
  openssl cms -verify -binary -inform DER -in v.cms -CAfile ca.pem -purpose any -out cms-payload.json
check "the CMS payload is our voucher" 0 grep -q '"serial-number":"E2E-0001"' cms-payload.json
check "python cryptography+cbor2 verify our COSE voucher" 0 $py "$src/tests/interop/verify_cose.py" v.cose masa.pem
check "python cryptography verifies our JWS voucher" 0 $py "$src/tests/interop/verify_jws.py" v.jws masa.pem
check "python rejects a COSE voucher against another key" 1 $py "$src/tests/interop/verify_cose.py" v.cose other.pem

# Published vectors through the CLI.
check "the RFC 8995 voucher verifies" 0 "$vs" voucher verify \
  --anchor "$vectors/rfc8995/C.1.1-vendor-ca.cert.pem" --at 2021-05-01T00:00:00Z \
  "$vectors/rfc8995/C.2.3-voucher_00-D0-E5-F2-00-02.derived.der"
check "the RFC 8995 voucher is not valid today" 1 "$vs" voucher verify \
  --anchor "$vectors/rfc8995/C.1.1-vendor-ca.cert.pem" \
  "$vectors/rfc8995/C.2.3-voucher_00-D0-E5-F2-00-02.derived.der"
check "the cBRSKI voucher verifies with the MASA key" 0 "$vs" voucher verify \
  --pubkey "$vectors/cbrski/C.2.4-masa-ca.cert.derived.pem" "$vectors/cbrski/C.5-voucher.cose.derived.bin"

# Usage and environment errors are exit 2.
check "wrong passphrase is a usage error" 2 env VOUCHSAFE_KEY_PASSPHRASE=wrong \
  "$vs" voucher sign --key masa.key --cert masa.pem --form cms voucher.json
check "a missing file is a usage error" 2 "$vs" voucher verify --anchor ca.pem no-such-file
check "verify without a trust source is a usage error" 2 "$vs" voucher verify v.cms
check "an unknown form is a usage error" 2 "$vs" voucher sign --key masa.key --cert masa.pem --form pdf voucher.json
check "a key that does not match the certificate is refused" 2 \
  "$vs" voucher sign --key other.key --cert masa.pem --form cms voucher.json
echo '{"ietf-voucher:voucher":{"assertion":"logged"}}' > invalid.json
check "an invalid payload is rejected" 1 "$vs" voucher sign --key masa.key --cert masa.pem --form cms invalid.json
for cmd in "" "voucher" "voucher inspect" "voucher sign" "voucher verify"; do
  # shellcheck disable=SC2086
  check "help of '$cmd' has exit codes" 0 sh -c "\"$vs\" $cmd --help | grep -q 'EXIT CODES'"
done

finish
