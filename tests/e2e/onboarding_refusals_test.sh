#!/usr/bin/env bash
# What must not onboard, over real TLS on loopback, each refused where RFC
# 8995 puts the decision and reported: a device not sold to this owner and
# a stolen one (the MASA refuses), a device with a previous owner (the
# registrar's audit-log policy), a voucher signed by another MASA key and a
# replayed one (the pledge refuses), a device of an unknown manufacturer
# (the TLS handshake fails).
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$here/masa_lib.sh"
# shellcheck source=tests/e2e/onboarding_lib.sh
. "$here/onboarding_lib.sh"

make_manufacturer 1 2 3 4 5
start_masa
start_registrar reg

# --- not sold to this owner: the MASA's known-customer policy
"$vs" device set-policy WG-F1-00000001 known-customer >/dev/null
check "a device not sold to this owner is refused" 1 pledge 1 out1
check "the pledge says the MASA refused it" 0 grep -q "not among the owners recorded.*\[voucher_refused\]" err
check "and wrote nothing" 1 test -e out1/ldevid.pem
"$vs" device assign-owner WG-F1-00000001 --anchor reg/certs/domain-ca.pem >/dev/null
check "once sold to this owner it onboards" 0 pledge 1 out1

# --- stolen
"$vs" device report-stolen WG-F1-00000002 --reason "case 7" >/dev/null
check "a stolen device is refused" 1 pledge 2 out2
check "the pledge says so" 0 grep -q "reported stolen" err
"$vs" registrar status --home reg WG-F1-00000002 > status2.txt
check "the registrar recorded the MASA's refusal" 0 grep -q "! masa_refused.*403" status2.txt

# --- a previous owner: the audit-log policy (RFC 8995 §5.8.3)
make_owner   # another domain, whose registrar got a voucher for device 3 first
check "another owner's registrar gets a voucher for device 3" 0 "$vs" registrar request-voucher \
  --masa-url "$url" --masa-ca "$masa_ca" --registrar-cert registrar.pem --registrar-key registrar.key \
  --pledge-cert dev3.pem --pledge-key dev3.key --out /dev/null
check "then our registrar refuses device 3" 1 pledge 3 out3
check "the pledge hears why" 0 grep -q "audit log fails this registrar's policy.*previous owner" err
check "and has no LDevID" 1 test -e out3/ldevid.pem
"$vs" registrar status --home reg WG-F1-00000003 > status3.txt
check "the registrar logged the reason" 0 grep -q "! audit_log_refused.*another domain" status3.txt
check "and forwarded no voucher" 1 grep -q "voucher-forwarded" status3.txt
check "the refusal log names it" 0 grep -q '"error":"audit_log_refused"' reg.log

# --- a voucher signed by another MASA key: the pledge refuses and reports
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout > other-masa.pub
check "a voucher not signed by the built-in MASA key is refused" 1 "$vs" pledge bootstrap \
  --registrar "$registrar" --idevid dev4.pem --key dev4.key --masa-pubkey other-masa.pub --out out4
cp err pledge4.err
check "named" 0 grep -q "\[voucher_signature_invalid\]" pledge4.err
check "and reported to the registrar" 0 grep -q "reported to the registrar (voucher_status, 200)" pledge4.err
"$vs" registrar status --home reg WG-F1-00000004 > status4.txt
check "which recorded the pledge's reason" 0 grep -q "! voucher-status.*voucher_signature_invalid" status4.txt
check "and issued no LDevID" 1 grep -q "ldevid-issued" status4.txt

# --- a replayed voucher (an old nonce), served by a registrar in the path
check "device 5 onboards once" 0 pledge 5 out5
cat home/certs/root-ca.pem home/certs/issuing-f1.pem > manufacturer.pem
"$py" "$here/helpers/replaying_registrar.py" reg/certs/registrar.pem reg/keys/registrar.key.pem \
  manufacturer.pem out5/voucher.cms reports.txt replay.port &
replayer=$!
for _ in $(seq 1 50); do [ -s replay.port ] && break; sleep 0.1; done
check "the old voucher is refused" 1 "$vs" pledge bootstrap --registrar "127.0.0.1:$(cat replay.port)" \
  --idevid dev5.pem --key dev5.key --masa-anchor "$masa_ca" --out out5b
check "for its nonce" 0 grep -q "\[voucher_nonce_mismatch\]" err
check "and the pledge reported it" 0 grep -q "voucher_status.*\"status\":false.*voucher_nonce_mismatch" reports.txt
kill "$replayer" 2>/dev/null; wait "$replayer" 2>/dev/null

# --- a device of a manufacturer this registrar does not know
mkdir other && (
  export VOUCHSAFE_HOME=$work/other/home
  cd other || exit 2
  "$vs" pki init --organization "Unknown Maker" --masa-url 127.0.0.1 >/dev/null
  "$vs" pki issuing-ca create --name x1 --product widget >/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out stranger.key
  openssl req -new -key stranger.key -subj "/serialNumber=WG-X1-00000001" -out stranger.csr
  "$vs" idevid issue --csr stranger.csr --serial WG-X1-00000001 --cert-out stranger.pem 2>/dev/null
)
check "its IDevID is refused at the TLS handshake" 1 "$vs" pledge bootstrap --registrar "$registrar" \
  --idevid other/stranger.pem --key other/stranger.key --masa-anchor "$masa_ca" --out out-x
check "the pledge cannot reach the registrar" 0 grep -q "\[registrar_unreachable\]" err
check "the registrar's log shows the failed handshake" 0 grep -q '"error":"handshake_failed"' reg.log
check "curl with that IDevID fails the handshake too" 1 sh -c "curl -sk --cert other/stranger.pem --key other/stranger.key https://$registrar/.well-known/est/cacerts >/dev/null; [ \$? -eq 0 ]"
check "with a known IDevID the same request works" 0 sh -c "curl -skf --cert dev1.pem --key dev1-plain.key https://$registrar/.well-known/est/cacerts | base64 -d | openssl pkcs7 -inform DER -print_certs -noout"

stop_registrar
stop_masa
finish
