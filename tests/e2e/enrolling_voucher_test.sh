#!/usr/bin/env bash
# The enrolling voucher end to end (docs/enrolling-voucher.md): an owner
# enrols a device offline through our registrar and our MASA over TLS; the
# voucher travels as a file; the device applies it with no connection,
# completing its LDevID's key z = x + y; and the device then authenticates
# with that LDevID and z to a TLS server of the owner (openssl s_server,
# not our code). Python's cbor2 reads the COSE voucher's extension. Every
# refusal the pledge owes is in tests/unit/pledge/enrolling_voucher_test.cpp.
# Loopback only; servers stopped at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
# shellcheck source=tests/e2e/onboarding_lib.sh
. "$(dirname "$0")/onboarding_lib.sh"

make_manufacturer 1 2 3

# --- the owner: a registrar home, its domain CA a known customer of the
# MASA, devices 1 and 2 recorded as sold to it (device 3 is not)
"$vs" masa init >/dev/null
check "registrar init" 0 "$vs" registrar init --home reg --organization "Owner" \
  --manufacturer-anchor home/certs/root-ca.pem --manufacturer-anchor home/certs/issuing-f1.pem \
  --masa-ca "$masa_ca" --masa-url https://127.0.0.1:1
sed -i -e 's|^customer_anchors = .*|customer_anchors = ["'"$work"'/reg/certs/domain-ca.pem"]|' home/masa.toml
check "the owner's CA is a known customer" 0 grep -q "reg/certs/domain-ca.pem" home/masa.toml
for n in 1 2; do
  check "device $n is recorded as the owner's" 0 \
    "$vs" device assign-owner WG-F1-0000000$n --anchor reg/certs/domain-ca.pem
done
serve masa.log
sed -i -e "s|^override_url = .*|override_url = \"$url\"|" reg/registrar.toml
check "the registrar sends to our MASA" 0 grep -q "override_url = \"$url\"" reg/registrar.toml

# --- offline enrolment: the voucher is a file
for form in cms cose; do
  check "registrar enroll-offline ($form)" 0 "$vs" registrar enroll-offline WG-F1-00000001 \
    --home reg --idevid dev1.pem --form $form --out wg1.$form
done
check "the CMS voucher verifies with openssl under the MASA anchor" 0 \
  openssl cms -verify -binary -inform DER -in wg1.cms -CAfile "$masa_ca" -purpose any -out wg1.json
check "it is nonceless, verified, and carries the extension" 0 $py - <<'EOF'
import json
v = json.load(open("wg1.json"))["ietf-voucher:voucher"]
assert "nonce" not in v and "expires-on" in v and v["assertion"] == "verified", v
assert "vouchsafe-enrolling" in v["extensions"], v
e = v["vouchsafe-enrolling:enrolling"]
assert set(e) == {"device-key", "encrypted-share", "ldevid"}, e
EOF
check "cbor2 reads the COSE voucher's extension under tag 47(61001)" 0 $py - <<'EOF'
import cbor2
v = cbor2.loads(cbor2.loads(open("wg1.cose", "rb").read()).value[2])[2451]
ext = [value for key, value in v.items() if isinstance(key, cbor2.CBORTag) and key.tag == 47]
assert len(ext) == 1 and set(ext[0]) == {1, 2, 3}, v
assert 61001 in v[15], v
EOF
check "registrar status records the LDevID" 0 sh -c \
  "\"$vs\" registrar status --home reg WG-F1-00000001 | grep -q enrolling-voucher"

# --- the device applies it, with no connection at all
check "pledge apply-voucher" 0 "$vs" pledge apply-voucher wg1.cms --idevid dev1.pem --key dev1.key \
  --masa-anchor "$masa_ca" --out enrolled1
check "it says what it got" 0 grep -q "WG-F1-00000001: enrolled offline" out
check "the LDevID chains to the owner's domain CA" 0 \
  openssl verify -CAfile reg/certs/domain-ca.pem enrolled1/ldevid.pem
check "its key is marked co-generated" 0 sh -c \
  "openssl x509 -in enrolled1/ldevid.pem -noout -text | grep -q 2.25.138903348734266408609935191872698142861"
openssl pkey -in enrolled1/ldevid.key.pem -passin env:VOUCHSAFE_PLEDGE_PASSPHRASE -out z.pem
check "z is the LDevID's key" 0 sh -c \
  "[ \"\$(openssl pkey -in z.pem -pubout)\" = \"\$(openssl x509 -in enrolled1/ldevid.pem -noout -pubkey)\" ]"
check "and not the IDevID's" 1 sh -c \
  "[ \"\$(openssl pkey -in z.pem -pubout)\" = \"\$(openssl x509 -in dev1.pem -noout -pubkey)\" ]"
check "the COSE voucher applies too" 0 "$vs" pledge apply-voucher wg1.cose --idevid dev1.pem \
  --key dev1.key --masa-anchor "$masa_ca" --out enrolled1-cose

# --- the device then authenticates to an owner's TLS server with it
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
  -subj "/CN=owner-server" -days 1 -out server.pem 2>/dev/null
# Port 0: the kernel picks one, which s_server prints as it accepts.
timeout 20 openssl s_server -accept 127.0.0.1:0 -cert server.pem -key server.key \
  -CAfile reg/certs/domain-ca.pem -Verify 2 -verify_return_error -naccept 1 -rev \
  >server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do grep -q ACCEPT server.log 2>/dev/null && break; sleep 0.1; done
server_port=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' server.log)
echo hello | timeout 10 openssl s_client -connect "127.0.0.1:$server_port" -cert enrolled1/ldevid.pem \
  -key z.pem -ign_eof -quiet >client.log 2>&1
wait "$server_pid"
check "the owner's server accepted the LDevID and z (client verify OK)" 0 \
  grep -q "verify return:1" server.log
check "and the device got its answer" 0 grep -q "olleh" client.log

# --- refusals at the MASA and the pledge
check "a device not sold to this owner gets no voucher" 1 "$vs" registrar enroll-offline \
  WG-F1-00000003 --home reg --idevid dev3.pem --out wg3.cms
check "the MASA said why" 0 grep -q "no owner is recorded" err
check "another device cannot apply WG-F1-00000001's voucher" 1 "$vs" pledge apply-voucher wg1.cms \
  --idevid dev2.pem --key dev2.key --masa-anchor "$masa_ca" --out enrolled2
check "as a voucher for another serial" 0 grep -q "voucher_serial_mismatch" err
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -subj "/CN=Other MASA" -days 1 -out other-masa.pem 2>/dev/null
check "a device that trusts another MASA refuses it" 1 "$vs" pledge apply-voucher wg1.cms \
  --idevid dev1.pem --key dev1.key --masa-anchor other-masa.pem --out enrolled1b
check "as not signed by its MASA" 0 grep -q "voucher_signature_invalid" err
check "the help teaches" 0 sh -c "\"$vs\" pledge apply-voucher --help | grep -q EXAMPLES && \"$vs\" registrar enroll-offline --help | grep -q EXAMPLES"
stop_masa
finish
