#!/usr/bin/env bash
# The four MASA key architectures (masa-considerations §3.1-3.4), each with
# its keys on a SoftHSM2 token and a MASA over TLS on loopback: devices of
# two products (or two key slots) get vouchers, and each voucher verifies
# with exactly the anchor or public key its device holds and not with the
# other's. Also the voucher-authority attack of §3.3: a voucher signed with
# a device's own IDevID key, which chains to the same root, is refused.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$lib/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$lib/masa_lib.sh"
# shellcheck source=tests/e2e/softhsm_lib.sh
. "$lib/softhsm_lib.sh"

make_owner
verify() {  # verify FILE (--anchor CERT | --pubkey KEY) [flags]
  local file=$1; shift
  "$vs" voucher verify "$@" "$file"
}

# home_for ARCH [SLOTS]: a manufacturer with products widget (WG) and gadget
# (GD), an issuing CA each, devices WG-F1-00000001/2 and GD-F1-00000003, and
# a MASA of that architecture, its keys on a token of its own; serves it.
home_for() {
  local arch=$1 slots=${2:-0}
  export VOUCHSAFE_HOME=$work/$arch
  local token
  token=$(make_token "$arch")
  "$vs" pki init --organization "Arch Devices" --masa-url 127.0.0.1 --key-store "$token" >/dev/null
  sed -i "s/^masa_key_slots = 0/masa_key_slots = $slots/" "$VOUCHSAFE_HOME/vouchsafe.toml"
  printf '\n[products.gadget]\nhw_type = "1.3.6.1.4.1.99999.1.2"\nserial_prefix = "GD"\nmasa_key_slots = %s\n' \
    "$slots" >> "$VOUCHSAFE_HOME/vouchsafe.toml"
  "$vs" pki issuing-ca create --name wf1 --product widget --key-store "$token" >/dev/null
  "$vs" pki issuing-ca create --name gf1 --product gadget --key-store "$token" >/dev/null
  local n serial
  for n in 1 2 3; do
    serial=WG-F1-0000000$n; [ $n -eq 3 ] && serial=GD-F1-0000000$n
    [ -e dev$n.key ] || { device_csr $n; openssl req -new -key dev$n.key -passin env:VOUCHSAFE_PLEDGE_PASSPHRASE \
      -subj "/serialNumber=$serial" -out dev$n.csr; }
    "$vs" idevid issue --csr dev$n.csr --serial $serial --cert-out $arch-dev$n.pem 2>/dev/null
  done
  check "$arch: masa init" 0 "$vs" masa init --architecture "$arch" --key-store "$token"
  serve $arch.log
}
request() {  # request ARCH DEVICE FORM OUT
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$VOUCHSAFE_HOME/masa/masa-ca.pem" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert $1-dev$2.pem --pledge-key dev$2.key --form "$3" --out "$4"
}
stop() { kill -TERM $masa_pid; wait $masa_pid; masa_pid=; }

# --- 3.1 one offline MASA CA, one online signer
home_for offline-ca
m=$VOUCHSAFE_HOME/masa
check "offline-ca: a voucher for a widget" 0 request offline-ca 1 cms a1.cms
check "offline-ca: a voucher for a gadget" 0 request offline-ca 3 cms a3.cms
check "offline-ca: it verifies with the MASA CA" 0 verify a1.cms --anchor $m/masa-ca.pem
check "offline-ca: and not with the manufacturer root" 1 verify a1.cms --anchor $VOUCHSAFE_HOME/certs/root-ca.pem
check "offline-ca: the CMS carries the chain up to the anchor" 0 sh -c \
  "openssl cms -cmsout -print -inform DER -in a1.cms | grep -c 'subject:' | grep -qx 2"
expected=$(openssl x509 -in $m/masa-ca.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
check "masa anchor --fingerprint" 0 "$vs" masa anchor --fingerprint
same "the fingerprint is the anchor's SHA-256" "$expected" "$(sed -n 's/^SHA256 Fingerprint=\([0-9a-f]*\).*/\1/p' out | tr a-f A-F)"
stop

# --- 3.2 a MASA key and anchor per product
home_for per-product
m=$VOUCHSAFE_HOME/masa
check "per-product: a widget voucher" 0 request per-product 1 cms p1.cms
check "per-product: a gadget voucher" 0 request per-product 3 cose p3.cose
check "per-product: the widget voucher verifies with the widget anchor" 0 verify p1.cms --anchor $m/products/widget/masa-ca.pem
check "per-product: not with the gadget anchor" 1 verify p1.cms --anchor $m/products/gadget/masa-ca.pem
check "per-product: the gadget voucher verifies with the gadget anchor" 0 verify p3.cose --anchor $m/products/gadget/masa-ca.pem
check "per-product: not with the widget anchor" 1 verify p3.cose --anchor $m/products/widget/masa-ca.pem
check "per-product: masa anchor --key names a product's anchor" 0 sh -c \
  "\"$vs\" masa anchor --key gadget | cmp -s - $m/products/gadget/masa-ca.pem"
stop

# --- 3.3 under the IDevID root, marked by the voucher-authority policy
home_for idevid-root
root=$VOUCHSAFE_HOME/certs/root-ca.pem
oid=$(sed -n 's/^voucher_authority_oid = "\(.*\)"/\1/p' $VOUCHSAFE_HOME/vouchsafe.toml)
check "idevid-root: a widget voucher" 0 request idevid-root 1 jws r1.jws
check "idevid-root: a gadget voucher" 0 request idevid-root 3 cms r3.cms
for v in r1.jws r3.cms; do
  check "idevid-root: $v verifies with the root and the voucher authority" 0 \
    verify $v --anchor $root --require-voucher-authority "$oid"
  check "idevid-root: $v not with another voucher-authority OID" 1 \
    verify $v --anchor $root --require-voucher-authority 1.3.6.1.4.1.99999.9.9
done
check "idevid-root: openssl finds the policy on the intermediate" 0 sh -c \
  "openssl x509 -in $VOUCHSAFE_HOME/masa/voucher-authority.pem -noout -text | grep -q '$oid'"
check "idevid-root: issuing CAs for IDevIDs never carry it" 1 sh -c \
  "openssl x509 -in $VOUCHSAFE_HOME/certs/issuing-wf1.pem -noout -text | grep -q '$oid'"
# The attack: a device's own IDevID key, extracted, signs a voucher that
# pins the attacker's domain; it chains to the same root.
printf '{"ietf-voucher:voucher":{"assertion":"verified","serial-number":"WG-F1-00000002","created-on":"2026-01-01T00:00:00Z","expires-on":"2099-01-01T00:00:00Z","pinned-domain-cert":"%s"}}' \
  "$(openssl x509 -in owner-ca.pem -outform DER | base64 -w0)" > forged.json
check "idevid-root: the forger signs with an IDevID key" 0 "$vs" voucher sign --key dev1-plain.key \
  --cert idevid-root-dev1.pem --chain $VOUCHSAFE_HOME/certs/issuing-wf1.pem --form cms --out forged.cms \
  forged.json
check "idevid-root: without the policy check the forgery would chain" 0 verify forged.cms --anchor $root
check "idevid-root: the voucher-authority check refuses it" 1 \
  verify forged.cms --anchor $root --require-voucher-authority "$oid"
check "idevid-root: naming the missing policy" 0 grep -q "voucher-authority policy $oid" err
stop

# --- 3.4 rotating keys: two slots per product, each device bound to one
home_for rotating 2
m=$VOUCHSAFE_HOME/masa
# serial-modulo: WG-F1-00000001 -> slot 1, WG-F1-00000002 -> slot 0
check "rotating: device show prints the MASA key id" 0 "$vs" device show WG-F1-00000001
check "rotating: WG-F1-00000001 is bound to widget-1" 0 grep -q "^masa_key_id: widget-1$" out
check "rotating: WG-F1-00000002 to widget-0" 0 sh -c "\"$vs\" device show WG-F1-00000002 | grep -q '^masa_key_id: widget-0$'"
check "rotating: a COSE voucher for WG-F1-00000001" 0 request rotating 1 cose k1.cose
check "rotating: a COSE voucher for WG-F1-00000002" 0 request rotating 2 cose k2.cose
check "rotating: k1 verifies with widget-1's bare public key" 0 verify k1.cose --pubkey $m/keys/widget-1.pub.pem
check "rotating: not with widget-0's" 1 verify k1.cose --pubkey $m/keys/widget-0.pub.pem
check "rotating: k2 verifies with widget-0's" 0 verify k2.cose --pubkey $m/keys/widget-0.pub.pem
check "rotating: not with widget-1's" 1 verify k2.cose --pubkey $m/keys/widget-1.pub.pem
check "rotating: the COSE voucher carries kid and no x5bag" 0 $py -c '
import cbor2, sys
msg = cbor2.loads(open(sys.argv[1], "rb").read())
msg = msg.value if hasattr(msg, "value") else msg
protected = cbor2.loads(msg[0])
assert protected.get(4) == b"widget-1", protected
assert 32 not in msg[1] and 33 not in msg[1], msg[1]
' k1.cose
check "rotating: masa anchor --pubkey gives the firmware key" 0 sh -c \
  "\"$vs\" masa anchor --key widget-1 --pubkey | cmp -s - $m/keys/widget-1.pub.pem"
check "rotating: a CMS voucher still carries the chain" 0 request rotating 1 cms k1.cms
check "rotating: it verifies with the MASA CA" 0 verify k1.cms --anchor $m/masa-ca.pem
stop
finish
