#!/usr/bin/env bash
# A pledge made of the openssl CLI and curl, not our code, onboards through
# our registrar over real TLS: the provisional handshake, a voucher-request
# signed with `openssl cms`, the voucher checked with `openssl cms -verify`,
# the registrar checked against the pinned domain, EST with a PKCS#10 from
# `openssl req`, and an LDevID that `openssl verify` accepts. A request that
# ignores the CSR attributes is refused.
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

make_manufacturer 1 2
start_masa
start_registrar reg

# curl as the pledge N: provisional (-k) until the voucher pins the domain.
pcurl() {  # pcurl N [curl args]
  local n=$1; shift
  curl -s --cert dev$n.pem --key dev$n-plain.key "$@"
}

# RFC 8995 §5.2-§5.7 with the openssl CLI: sets nonce; leaves vN.json
# (the voucher's payload) and pinnedN.pem.
voucher_for() {  # voucher_for N
  local n=$1 serial=WG-F1-0000000$1
  # The registrar's TLS certificate, as the provisional handshake shows it.
  openssl s_client -connect "$registrar" -cert dev$n.pem -key dev$n-plain.key </dev/null 2>/dev/null |
    openssl x509 -outform PEM > registrar-tls$n.pem || return 1
  nonce=$(openssl rand -base64 16)
  printf '{"ietf-voucher-request:voucher":{"assertion":"proximity","nonce":"%s","created-on":"%s","serial-number":"%s","proximity-registrar-cert":"%s"}}' \
    "$nonce" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$serial" \
    "$(openssl x509 -in registrar-tls$n.pem -outform DER | base64 -w0)" > pvr$n.json
  openssl cms -sign -binary -nodetach -outform DER -in pvr$n.json -signer dev$n.pem \
    -inkey dev$n-plain.key -econtent_type 1.2.840.113549.1.9.16.1.40 -out pvr$n.der || return 1
  [ "$(pcurl $n -k -o v$n.der -w '%{http_code}' -H 'Content-Type: application/voucher-cms+json' \
      -H 'Accept: application/voucher-cms+json' --data-binary @pvr$n.der \
      "https://$registrar/.well-known/brski/requestvoucher")" = 200 ] || return 1
  # RFC 8995 §5.6.1: the MASA's signature, this device, this nonce.
  openssl cms -verify -binary -inform DER -in v$n.der -CAfile "$masa_ca" -purpose any \
    -out v$n.json 2>/dev/null || return 1
  "$py" - v$n.json "$serial" "$nonce" <<'PY' || return 1
import json, sys
v = json.load(open(sys.argv[1]))["ietf-voucher:voucher"]
assert v["serial-number"] == sys.argv[2] and v["nonce"] == sys.argv[3], v
PY
  "$py" -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["ietf-voucher:voucher"]["pinned-domain-cert"]))' v$n.json |
    openssl x509 -inform DER -out pinned$n.pem || return 1
  # RFC 8995 §5.6.2: the registrar's certificate chains to the pinned one.
  openssl verify -CAfile pinned$n.pem registrar-tls$n.pem >/dev/null || return 1
  [ "$(pcurl $n --cacert pinned$n.pem -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data '{"version":1,"status":true}' "https://$registrar/.well-known/brski/voucher_status")" = 200 ]
}

# --- the whole flow for device 1
check "openssl+curl get a voucher and pin the domain" 0 voucher_for 1
# From here on curl checks the registrar against the pinned domain, no -k.
check "cacerts is base64 application/pkcs7-mime" 0 sh -c "curl -s -D cacerts.h --cacert pinned1.pem --cert dev1.pem --key dev1-plain.key https://$registrar/.well-known/est/cacerts -o cacerts.b64 && grep -qi '^content-type: application/pkcs7-mime' cacerts.h && grep -qi '^content-transfer-encoding: base64' cacerts.h"
check "openssl reads the domain's CA certificates from it" 0 sh -c "base64 -d cacerts.b64 | openssl pkcs7 -inform DER -print_certs -out ca.pem"
check "csrattrs answers" 0 sh -c "curl -sf --cacert pinned1.pem --cert dev1.pem --key dev1-plain.key https://$registrar/.well-known/est/csrattrs -o attrs.b64"
base64 -d attrs.b64 | openssl asn1parse -inform DER > attrs.txt
check "csrattrs asks for the IDevID's serialNumber" 0 grep -q "PRINTABLESTRING *:WG-F1-00000001" attrs.txt
check "and a P-256 key signed with ECDSA-SHA256" 0 sh -c "grep -q prime256v1 attrs.txt && grep -q ecdsa-with-SHA256 attrs.txt"
# A PKCS#10 made by openssl req, following the attributes.
serial=$(sed -n 's/.*PRINTABLESTRING *:\(.*\)$/\1/p' attrs.txt)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ldevid1.key \
  -subj "/serialNumber=$serial" -sha256 -outform DER -out csr1.der 2>/dev/null
same "simpleenroll takes a base64 PKCS#10" 200 "$(base64 csr1.der | curl -s -o ldevid1.b64 -w '%{http_code}' --cacert pinned1.pem --cert dev1.pem --key dev1-plain.key -H 'Content-Type: application/pkcs10' --data-binary @- https://$registrar/.well-known/est/simpleenroll)"
check "and answers a certs-only PKCS#7" 0 sh -c "base64 -d ldevid1.b64 | openssl pkcs7 -inform DER -print_certs -out ldevid1.pem"
check "openssl verify accepts the LDevID" 0 openssl verify -CAfile ca.pem ldevid1.pem
check "its subject is the IDevID's serialNumber" 0 sh -c "openssl x509 -in ldevid1.pem -noout -subject | grep -q 'serialNumber = WG-F1-00000001'"
check "it is for the key openssl made" 0 sh -c "[ \"\$(openssl x509 -in ldevid1.pem -noout -pubkey)\" = \"\$(openssl pkey -in ldevid1.key -pubout)\" ]"
check "it serves TLS clients and servers" 0 sh -c "openssl x509 -in ldevid1.pem -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication, TLS Web Server Authentication'"
same "enrollstatus" 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert pinned1.pem --cert dev1.pem --key dev1-plain.key -H 'Content-Type: application/json' --data '{"version":1,"status":true,"reason":"openssl pledge"}' https://$registrar/.well-known/brski/enrollstatus)"
"$vs" registrar status --home reg WG-F1-00000001 > status1.txt
check "the registrar recorded the openssl pledge's onboarding" 0 sh -c "grep -q ldevid-issued status1.txt && grep -q 'enroll-status  openssl pledge' status1.txt"
# Re-enrollment (RFC 7030 §4.2.2) with the LDevID as client certificate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ldevid1b.key \
  -subj "/serialNumber=$serial" -outform DER -out csr1b.der 2>/dev/null
same "simplereenroll with the LDevID" 200 "$(base64 csr1b.der | curl -s -o /dev/null -w '%{http_code}' --cacert pinned1.pem --cert ldevid1.pem --key ldevid1.key -H 'Content-Type: application/pkcs10' --data-binary @- https://$registrar/.well-known/est/simplereenroll)"
same "but not with the IDevID" 403 "$(base64 csr1b.der | curl -s -o /dev/null -w '%{http_code}' --cacert pinned1.pem --cert dev1.pem --key dev1-plain.key -H 'Content-Type: application/pkcs10' --data-binary @- https://$registrar/.well-known/est/simplereenroll)"

# --- a CSR that ignores csrattrs is refused (RFC 8995 §5.9.2)
check "device 2 gets its voucher" 0 voucher_for 2
enroll2() {  # enroll2 SUBJECT CURVE: the status of simpleenroll for such a request
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:$2 -nodes -keyout /dev/null \
    -subj "$1" -outform DER -out csr2.der 2>/dev/null
  base64 csr2.der | curl -s -o refusal.txt -w '%{http_code}' --cacert pinned2.pem --cert dev2.pem \
    --key dev2-plain.key -H 'Content-Type: application/pkcs10' --data-binary @- \
    "https://$registrar/.well-known/est/simpleenroll"
}
same "a CSR without the serialNumber" 400 "$(enroll2 /CN=device P-256)"
check "is refused as not following csrattrs" 0 grep -q "does not follow the CSR attributes" refusal.txt
same "a CSR with another device's serialNumber" 400 "$(enroll2 /serialNumber=WG-F1-00000001 P-256)"
same "a CSR with another key type" 400 "$(enroll2 /serialNumber=WG-F1-00000002 P-384)"
check "which it names" 0 grep -q "P-256" refusal.txt
"$vs" registrar status --home reg WG-F1-00000002 > status2.txt
check "each refusal is recorded, and no LDevID issued" 0 sh -c "[ \$(grep -c '! csr_mismatch' status2.txt) -eq 3 ] && ! grep -q ldevid-issued status2.txt"
same "the right CSR then succeeds" 200 "$(enroll2 /serialNumber=WG-F1-00000002 P-256)"

stop_registrar
stop_masa
finish
