#!/usr/bin/env bash
# The MASA over real TLS on loopback, as registrars reach it: our registrar
# client, and voucher-requests built with the openssl CLI and posted with
# curl; the vouchers checked with `openssl cms -verify`; rejections with
# their status codes; the admin endpoints. Every request goes to 127.0.0.1,
# and the server is stopped at the end.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"

# --- the manufacturer (three devices with keys made on the device), an owner
make_manufacturer 1 2 3
make_owner

# --- the MASA
check "masa init" 0 "$vs" masa init
check "masa init again changes nothing" 0 "$vs" masa init
serve masa.log
masa_ca=home/masa/masa-ca.pem

request() {  # request DEVICE FORM [extra flags]
  local n=$1 form=$2; shift 2
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$n.pem --pledge-key dev$n.key --form "$form" "$@"
}
for form in cms cose jws; do
  check "a $form voucher over TLS" 0 request 1 $form --out v.$form --verify-anchor "$masa_ca"
done
check "openssl cms -verify accepts the voucher" 0 \
  openssl cms -verify -binary -inform DER -in v.cms -CAfile "$masa_ca" -purpose any -out v.json
check "the voucher pins the owner and names the device" 0 \
  $py -c 'import json,sys; v=json.load(open("v.json"))["ietf-voucher:voucher"]; assert v["serial-number"]=="WG-F1-00000001" and v["assertion"]=="proximity" and "pinned-domain-cert" in v and "nonce" in v'
check "another form by Accept" 0 request 1 cms --accept jws --out v2.jws --verify-anchor "$masa_ca"
check "the audit log lists the vouchers" 0 sh -c "\"$vs\" registrar request-audit-log --masa-url $url --masa-ca $masa_ca --registrar-cert registrar.pem --registrar-key registrar.key --pledge-cert dev1.pem --pledge-key dev1.key | $py -c 'import json,sys; log=json.load(sys.stdin); assert log[\"version\"]==1 and len(log[\"events\"])>=1, log'"

# --- interop: a voucher-request made by the openssl CLI, posted with curl
nonce=$(openssl rand -base64 16)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '{"ietf-voucher-request:voucher":{"assertion":"proximity","nonce":"%s","created-on":"%s","serial-number":"WG-F1-00000002","proximity-registrar-cert":"%s"}}' \
  "$nonce" "$now" "$(openssl x509 -in registrar-ee.pem -outform DER | base64 -w0)" > pvr.json
openssl cms -sign -binary -nodetach -outform DER -in pvr.json -signer dev2.pem -inkey dev2-plain.key \
  -econtent_type 1.2.840.113549.1.9.16.1.40 -out pvr.der
printf '{"ietf-voucher-request:voucher":{"nonce":"%s","created-on":"%s","serial-number":"WG-F1-00000002","prior-signed-voucher-request":"%s"}}' \
  "$nonce" "$now" "$(base64 -w0 pvr.der)" > rvr.json
openssl cms -sign -binary -nodetach -outform DER -in rvr.json -signer registrar-ee.pem \
  -inkey registrar-plain.key -certfile owner-ca.pem -econtent_type 1.2.840.113549.1.9.16.1.40 -out rvr.der
curl_masa() {  # curl_masa OUT CONTENT-TYPE ACCEPT BODY [extra]
  local out=$1 ct=$2 accept=$3 body=$4; shift 4
  curl -s -o "$out" -w '%{http_code}' --cacert "$masa_ca" --cert registrar-ee.pem --key registrar-plain.key \
    -H "Content-Type: $ct" -H "Accept: $accept" --data-binary @"$body" "$@" \
    "$url/.well-known/brski/requestvoucher"
}
same "curl with an openssl-made request gets a voucher" 200 \
  "$(curl_masa v3.cms application/voucher-cms+json application/voucher-cms+json rvr.der)"
check "openssl cms -verify accepts it" 0 \
  openssl cms -verify -binary -inform DER -in v3.cms -CAfile "$masa_ca" -purpose any -out /dev/null

# --- rejections over TLS, each with its status and reason
same "a request in an unknown media type is 415" 415 "$(curl_masa r.txt text/plain application/voucher-cms+json rvr.der)"
same "an Accept it cannot serve is 406" 406 "$(curl_masa r.txt application/voucher-cms+json application/pdf rvr.der)"
head -c 100000 /dev/urandom > big.bin
same "an oversize body is 413" 413 "$(curl_masa r.txt application/voucher-cms+json application/voucher-cms+json big.bin)"
check "no client certificate: the handshake fails" 1 sh -c "curl -s --cacert $masa_ca -H 'Content-Type: application/voucher-cms+json' --data-binary @rvr.der $url/.well-known/brski/requestvoucher >/dev/null; [ \$? -eq 0 ]"
"$vs" device report-stolen WG-F1-00000003 --reason test >/dev/null
check "a stolen device is refused" 1 request 3 cms --out /dev/null
check "with 403" 0 grep -q "403" err
"$vs" device report-stolen WG-F1-00000003 --undo >/dev/null
check "after the undo it gets a voucher" 0 request 3 cms --out /dev/null
"$vs" device set-policy WG-F1-00000003 known-customer >/dev/null
check "known-customer without the owner anchor is refused" 1 request 3 cms --out /dev/null
"$vs" device assign-owner WG-F1-00000003 --anchor owner-ca.pem >/dev/null
check "known-customer with the owner anchor gets a voucher" 0 request 3 cms --out /dev/null

# --- the admin listener
same "healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$admin_port/healthz)"
same "readyz" 200 "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$admin_port/readyz)"
check "metrics count the requests" 0 sh -c "curl -s http://127.0.0.1:$admin_port/metrics | grep -q 'vouchsafe_http_requests_total'"
tls_curl() { curl -s -o /dev/null -w '%{http_code}' --cacert "$masa_ca" --cert registrar-ee.pem --key registrar-plain.key "$@"; }
same "GET on requestvoucher: 405" 405 "$(tls_curl "$url/.well-known/brski/requestvoucher")"
same "a path outside /.well-known/brski/: 404" 404 "$(tls_curl -X POST "$url/.well-known/est/cacerts")"

for cmd in "masa" "masa init" "masa serve" "registrar" "registrar request-voucher" "registrar request-audit-log"; do
  # shellcheck disable=SC2086
  check "help of '$cmd' has exit codes" 0 sh -c "\"$vs\" $cmd --help | grep -q 'EXIT CODES'"
done

kill -TERM $masa_pid; wait $masa_pid
check "the MASA stops on SIGTERM" 0 grep -q "MASA stopping" masa.log
finish
