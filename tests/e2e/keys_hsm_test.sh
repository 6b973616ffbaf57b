#!/usr/bin/env bash
# The PKI, batch issuance and the MASA with every CA and voucher-signing key
# on a throw-away SoftHSM2 token, as a device maker runs them: keys made on
# the token by `pki init`, `pki issuing-ca create` and `masa init`, devices
# issued from CSRs and seeds, vouchers over TLS (the MASA's TLS key on the
# token too) that `openssl cms -verify` accepts, session-ticket keys sealed
# by a token key; then the HSM's bad inputs, each a clear error with exit 2
# and nothing half-written. Every request goes to 127.0.0.1.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$lib/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$lib/masa_lib.sh"
# shellcheck source=tests/e2e/softhsm_lib.sh
. "$lib/softhsm_lib.sh"
unset VOUCHSAFE_CA_PASSPHRASE  # token keys need the PIN, not a passphrase

store=$(make_token vouchsafe)
check "pki init makes the root key on the token" 0 \
  "$vs" pki init --organization "Token Devices" --masa-url 127.0.0.1 --key-store "$store"
check "no root key file is written" 0 test ! -e home/keys/root-ca.key.pem
check "the root certificate verifies itself" 0 openssl verify -CAfile home/certs/root-ca.pem home/certs/root-ca.pem
check "pki init again changes nothing" 0 "$vs" pki init --key-store "$store"
check "an issuing CA on the token" 0 \
  "$vs" pki issuing-ca create --name f1 --product widget --key-store "$store"
check "the issuing CA chains to the root" 0 \
  openssl verify -CAfile home/certs/root-ca.pem home/certs/issuing-f1.pem
check "no key files at all" 0 sh -c '[ -z "$(ls home/keys)" ]'

for n in 1 2; do
  device_csr $n
  check "IDevID $n issued by the token's issuing CA" 0 \
    "$vs" idevid issue --csr dev$n.csr --serial WG-F1-0000000$n --cert-out dev$n.pem
done
check "the IDevID chains to the token's root" 0 \
  openssl verify -CAfile home/certs/root-ca.pem -untrusted home/certs/issuing-f1.pem dev1.pem
for i in $(seq 1 20); do printf 'WG-F1-1%07d,%064x\n' "$i" "$i"; done > seeds.csv
check "a seed batch signs with the token's key" 0 "$vs" idevid batch --product widget --seeds seeds.csv --quiet
check "the batch's devices are recorded" 0 sh -c "\"$vs\" device list | grep -c WG-F1-1 | grep -qx 20"

# --- the MASA, its keys on the token
make_owner
masa_init_on_token() { "$vs" masa init --key-store "$store"; }
check "masa init makes the MASA keys on the token" 0 masa_init_on_token
check "the signing key is named by a pkcs11: URI" 0 grep -q '^key = "pkcs11:token=vouchsafe;object=masa-signing' home/masa.toml
check "no MASA CA or signing key file" 0 sh -c 'test ! -e home/masa/masa-ca.key.pem && test ! -e home/masa/signing.key.pem'
check "the TLS key is on the token too" 0 grep -q '^key = "pkcs11:token=vouchsafe;object=masa-tls' home/masa.toml
check "and no TLS key file" 0 test ! -e home/masa/tls.key.pem
serve masa.log
masa_ca=home/masa/masa-ca.pem
# The handshake's signature is the token's: a client we did not write checks
# it against the MASA's certificate.
s_client_out=$(openssl s_client -connect "127.0.0.1:$port" -CAfile "$masa_ca" -cert registrar.pem \
  -key registrar-plain.key -verify_return_error </dev/null 2>&1)
check "openssl s_client completes a handshake signed on the token" 0 grep -q "Verify return code: 0 (ok)" <<<"$s_client_out"
sed -i 's/^library = "gnutls"/library = "openssl"/' home/masa.toml
refused_serve=$("$vs" masa serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 2>&1)
check "the OpenSSL listener refuses a token TLS key, saying why" 0 grep -q 'needs \[tls\] library = "gnutls"' <<<"$refused_serve"
sed -i 's/^library = "openssl"/library = "gnutls"/' home/masa.toml
request() {  # request DEVICE FORM [extra flags]
  local n=$1 form=$2; shift 2
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$n.pem --pledge-key dev$n.key --form "$form" "$@"
}
for form in cms cose jws; do
  check "a $form voucher signed on the token, over TLS" 0 request 1 $form --out v.$form --verify-anchor "$masa_ca"
done
check "openssl cms -verify accepts the token-signed voucher" 0 \
  openssl cms -verify -binary -inform DER -in v.cms -CAfile "$masa_ca" -purpose any -out v.json
same "readyz with the key on the token" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$admin_port/readyz)"
kill -TERM $masa_pid; wait $masa_pid; masa_pid=
# The session-ticket key reaches the store only sealed by an AES key on the
# token (format 2: key id, IV, ciphertext, tag), which p11tool (GnuTLS, not
# our code) shows is a secret key the token never lets out.
same "the store's session-ticket key is sealed on the token" "02 117" \
  "$(sqlite3 home/assets.db 'SELECT hex(substr(material, 1, 1)), length(material) FROM tls_ticket_key' | tr '|' ' ')"
p11=$(GNUTLS_PIN=pin-vouchsafe p11tool --provider "$softhsm_module" --login --list-all \
  "pkcs11:token=vouchsafe;object=vouchsafe-ticket-seal" 2>&1)
check "p11tool lists the sealing key as a secret key" 0 grep -q "Type: Secret key" <<<"$p11"
check "sensitive" 0 grep -q "CKA_SENSITIVE" <<<"$p11"
check "never extractable" 0 grep -q "CKA_NEVER_EXTRACTABLE" <<<"$p11"

# --- bad input: each names what to fix, exit 2
uri_of() { sed -n 's/^key = "\(pkcs11:[^"]*object=masa-signing[^"]*\)"/\1/p' home/masa.toml | head -1; }
key_uri=$(uri_of)
printf '{"ietf-voucher:voucher":{"assertion":"verified","serial-number":"WG-F1-00000001","created-on":"2026-01-01T00:00:00Z","expires-on":"2027-01-01T00:00:00Z","pinned-domain-cert":"%s"}}' \
  "$(openssl x509 -in owner-ca.pem -outform DER | base64 -w0)" > voucher.json
sign() { "$vs" voucher sign --key "$1" --cert home/masa/signing.pem --form cms --out s.cms voucher.json; }
check "voucher sign with the token key" 0 sign "$key_uri"
printf 'wrong-pin\n' > wrong.pin
refused() {  # refused NAME EXIT PATTERN COMMAND...: that exit, and a message matching PATTERN
  local name=$1 code=$2 pattern=$3; shift 3
  check "$name" "$code" "$@"
  cp "$work/err" "$work/refusal"
  check "$name: says '$pattern'" 0 grep -q -- "$pattern" "$work/refusal"
}
refused "a wrong PIN" 2 "CKR_PIN_INCORRECT.*token 'vouchsafe'" \
  sign "${key_uri/pin-source=file:*/pin-source=file:$work/wrong.pin}"
check "the PIN is never shown" 1 grep -q "wrong-pin" refusal
refused "a missing module" 2 "libnothere.so does not exist" sign "${key_uri/libsofthsm2.so/libnothere.so}"
refused "an absent token" 2 "no token labelled 'absent'.*'vouchsafe'" sign "${key_uri/token=vouchsafe/token=absent}"
refused "a missing key object" 2 "object 'nothere'" sign "${key_uri/object=masa-signing/object=nothere}"
refused "a PIN in the URI" 2 "pin-value is refused" sign "pkcs11:token=vouchsafe;object=masa-signing?pin-value=1234"
# A token that offers no CKM_ECDSA (SoftHSM2's slots.mechanisms, a list of those it offers)
# cannot sign with an EC key.
sed 's/^slots.removable.*/&\nslots.mechanisms = CKM_EC_KEY_PAIR_GEN,CKM_SHA256/' "$SOFTHSM2_CONF" > no-ecdsa.conf
refused "an unsupported mechanism" 2 "CKM_ECDSA is not offered" env SOFTHSM2_CONF="$work/no-ecdsa.conf" \
  "$vs" voucher sign --key "$key_uri" --cert home/masa/signing.pem --form cms --out s2.cms voucher.json
check "nothing written" 0 test ! -e s2.cms

# pki init on a token that is not there leaves no home behind
refused "pki init on an absent token" 2 "no token labelled" \
  "$vs" pki init --home home2 --key-store "${store/token=vouchsafe/token=absent}"
check "leaves no configuration" 0 test ! -e home2/vouchsafe.toml
check "and no root certificate" 0 test ! -e home2/certs/root-ca.pem
refused "a root key on a module that is not there" 2 "does not exist" \
  "$vs" pki init --home home3 --key-store "pkcs11:token=x?module-path=/nonexistent.so"
refused "rollover with no MASA initialised" 2 "run \`vouchsafe masa init\` first" \
  "$vs" masa key rollover --home home2
finish
