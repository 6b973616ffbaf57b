#!/usr/bin/env bash
# Every refusal of the MASA over real TLS, as a registrar meets it: the
# status code and a fragment of the plain-text reason (src/masa/
# status_table.cpp). Voucher-requests that our client cannot be made to get
# wrong are built with the openssl CLI and posted with curl; a connection
# without a client certificate is refused at the handshake. Loopback only;
# the MASAs are stopped at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
started=$SECONDS

# --- the manufacturer; devices 1-4 are known to the MASA
make_manufacturer 1 2 3 4
# Device 9 has an IDevID from our own issuing CA, but is recorded only in a
# copy of the store: to the MASA it is an unknown device, not a foreign one.
cp -r home home-copy
device_csr 9
VOUCHSAFE_HOME=$work/home-copy "$vs" idevid issue --csr dev9.csr --serial WG-F1-00000009 \
  --cert-out dev9.pem 2>/dev/null

# --- another manufacturer's PKI, whose device claims one of our serials
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key \
  -subj "/O=Other Devices/CN=Other IDevID CA" -days 30 -out other-ca.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-dev.key \
  -subj "/serialNumber=WG-F1-00000001" -out other-dev.csr 2>/dev/null
openssl x509 -req -in other-dev.csr -CA other-ca.pem -CAkey other-ca.key -days 30 -set_serial 7 \
  -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n') -out other-dev.pem 2>/dev/null

# --- registrars: the owner's, one without id-kp-cmcRA under the same domain
# CA, and a stranger's under another domain CA
domain_ca owner
domain_ca stranger
registrar registrar owner 1.3.6.1.5.5.7.3.28,clientAuth,serverAuth 11
registrar plain owner clientAuth,serverAuth 12
registrar outsider stranger 1.3.6.1.5.5.7.3.28,clientAuth,serverAuth 13

# --- the MASA
check "masa init" 0 "$vs" masa init
serve masa.log
masa_ca=home/masa/masa-ca.pem

# --- requests built with the openssl CLI (RFC 8995 §5.2 and §5.5)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sign_vr() {  # sign_vr JSON OUT CERT KEY [openssl flags]: a CMS voucher-request
  local json=$1 out=$2 cert=$3 key=$4; shift 4
  openssl cms -sign -binary -nodetach -outform DER -in "$json" -signer "$cert" -inkey "$key" \
    -econtent_type 1.2.840.113549.1.9.16.1.40 -out "$out" "$@"
}
pvr() {  # pvr OUT SERIAL NONCE PROXIMITY-CERT SIGNER-CERT SIGNER-KEY
  printf '{"ietf-voucher-request:voucher":{"assertion":"proximity","nonce":"%s","created-on":"%s","serial-number":"%s","proximity-registrar-cert":"%s"}}' \
    "$3" "$now" "$2" "$(openssl x509 -in "$4" -outform DER | base64 -w0)" > "$1.json"
  sign_vr "$1.json" "$1" "$5" "$6"
}
rvr() {  # rvr OUT SERIAL NONCE PVR [REGISTRAR]: signed by an owner-domain REGISTRAR (default: registrar)
  local who=${5:-registrar}
  printf '{"ietf-voucher-request:voucher":{"nonce":"%s","created-on":"%s","serial-number":"%s","prior-signed-voucher-request":"%s"}}' \
    "$3" "$now" "$2" "$(base64 -w0 "$4")" > "$1.json"
  sign_vr "$1.json" "$1" "$who-ee.pem" "$who-plain.key" -certfile owner-ca.pem
}
flip_last_byte() {  # flip_last_byte IN OUT: the last byte of a CMS is its signature's
  $py -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' "$1" "$2"
}
post() {  # post CLIENT CONTENT-TYPE ACCEPT BODY: the status; the body in r.txt, headers in h.txt
  curl -s -o r.txt -D h.txt -w '%{http_code}' --cacert "$masa_ca" --cert "$1-ee.pem" --key "$1-plain.key" \
    -H "Content-Type: $2" -H "Accept: $3" --data-binary @"$4" "$url/.well-known/brski/requestvoucher"
}
cms=application/voucher-cms+json
refused() {  # refused NAME STATUS REASON BODY [CLIENT]: a CMS request posted with curl
  same "$1: $2" "$2" "$(post "${5:-registrar}" $cms $cms "$4")"
  check "$1: the reason says '$3'" 0 grep -qF -- "$3" r.txt
}
request() {  # request REGISTRAR DEVICE [flags]: our registrar client
  local who=$1 n=$2; shift 2
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert $who.pem --registrar-key $who.key --pledge-cert dev$n.pem --pledge-key dev$n.key "$@"
}
cli_refused() {  # cli_refused NAME STATUS REASON COMMAND...: exit 1, the MASA's answer on stderr
  local name=$1 status=$2 reason=$3; shift 3
  check "$name: refused" 1 "$@"
  cp err cli.err  # each check replaces err
  check "$name: $status" 0 grep -qF "answered $status:" cli.err
  check "$name: the reason says '$reason'" 0 grep -qF -- "$reason" cli.err
}

# The baseline: the same construction, untouched, gets a voucher, so each
# refusal below is caused by its one defect.
nonce=$(openssl rand -base64 16)
pvr pvr1.der WG-F1-00000001 "$nonce" registrar-ee.pem dev1.pem dev1-plain.key
rvr good.der WG-F1-00000001 "$nonce" pvr1.der
same "an openssl-made request gets a voucher" 200 "$(post registrar $cms $cms good.der)"
check "which openssl cms -verify accepts" 0 \
  openssl cms -verify -binary -inform DER -in r.txt -CAfile "$masa_ca" -purpose any -out good.json

# --- the registrar voucher-request
flip_last_byte good.der rvr-tampered.der
refused "RVR with a tampered signature" 403 "registrar voucher-request signature does not verify" rvr-tampered.der
rvr rvr-plain.der WG-F1-00000001 "$nonce" pvr1.der plain
refused "RVR signed without id-kp-cmcRA" 403 "id-kp-cmcRA" rvr-plain.der plain

# --- the pledge voucher-request inside it
flip_last_byte pvr1.der pvr-tampered.der
rvr rvr-pvr-tampered.der WG-F1-00000001 "$nonce" pvr-tampered.der
refused "PVR with a tampered signature" 403 "pledge voucher-request signature does not verify" rvr-pvr-tampered.der
pvr pvr-other.der WG-F1-00000001 "$nonce" registrar-ee.pem other-dev.pem other-dev.key
rvr rvr-other.der WG-F1-00000001 "$nonce" pvr-other.der
refused "PVR signed by another manufacturer's device" 403 "not signed by an IDevID this manufacturer issued" rvr-other.der
rvr rvr-serial.der WG-F1-00000002 "$nonce" pvr1.der
refused "RVR and PVR name different serials" 403 "do not agree" rvr-serial.der
pvr pvr-far.der WG-F1-00000001 "$nonce" outsider-ee.pem dev1.pem dev1-plain.key
rvr rvr-far.der WG-F1-00000001 "$nonce" pvr-far.der
refused "PVR names another registrar (no proximity)" 403 "proximity-registrar-cert is not in" rvr-far.der
rvr rvr-nonce.der WG-F1-00000001 "$(openssl rand -base64 16)" pvr1.der
refused "RVR and PVR nonces differ" 403 "nonce of the registrar voucher-request differs" rvr-nonce.der

# --- replays, idevid-issuer and requests without the pledge's (issue 9)
refused "a captured request posted with another client certificate" 401 \
  "signed by another key than the TLS client certificate" good.der outsider
hour_ago=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
printf '{"ietf-voucher-request:voucher":{"nonce":"%s","created-on":"%s","serial-number":"WG-F1-00000001","prior-signed-voucher-request":"%s"}}' \
  "$nonce" "$hour_ago" "$(base64 -w0 pvr1.der)" > rvr-stale.json
sign_vr rvr-stale.json rvr-stale.der registrar-ee.pem registrar-plain.key -certfile owner-ca.pem
refused "a request created two hours ago" 403 "before this MASA's clock" rvr-stale.der
printf '{"ietf-voucher-request:voucher":{"nonce":"%s","created-on":"%s","serial-number":"WG-F1-00000001","idevid-issuer":"%s","prior-signed-voucher-request":"%s"}}' \
  "$nonce" "$now" "$(printf '/CN=Somebody Else' | base64 -w0)" "$(base64 -w0 pvr1.der)" > rvr-issuer.json
sign_vr rvr-issuer.json rvr-issuer.der registrar-ee.pem registrar-plain.key -certfile owner-ca.pem
refused "an idevid-issuer naming another issuer" 403 "idevid-issuer does not identify" rvr-issuer.der
printf '{"ietf-voucher-request:voucher":{"created-on":"%s","serial-number":"WG-F1-00000001"}}' "$now" > rvr-offline.json
sign_vr rvr-offline.json rvr-offline.der registrar-ee.pem registrar-plain.key -certfile owner-ca.pem
refused "no pledge request, from a registrar that is no known customer" 403 "not a known customer" rvr-offline.der

# --- the device and its policies, through our registrar client
cli_refused "an unknown device" 404 "knows no device" request registrar 9 --out v.cms
"$vs" device report-stolen WG-F1-00000002 --reason test >/dev/null
cli_refused "a stolen device" 403 "reported stolen" request registrar 2 --out v.cms
"$vs" device set-policy WG-F1-00000003 known-customer >/dev/null
cli_refused "known-customer, registrar not an owner" 403 "not among the owners" request registrar 3 --out v.cms
cli_refused "nonceless from an unauthenticated registrar" 401 "authenticated registrar" \
  request registrar 4 --nonceless --out v.cms
# The audit log of device 1, which has the owner's entries, asked for by a
# registrar of another domain: refused as if the device were unknown.
cli_refused "the audit log for a stranger" 404 "No audit log" \
  "$vs" registrar request-audit-log --masa-url "$url" --masa-ca "$masa_ca" --registrar-cert outsider.pem \
  --registrar-key outsider.key --pledge-cert dev1.pem --pledge-key dev1.key
check "while the owner reads it" 0 "$vs" registrar request-audit-log --masa-url "$url" --masa-ca "$masa_ca" \
  --registrar-cert registrar.pem --registrar-key registrar.key --pledge-cert dev1.pem --pledge-key dev1.key

# Every refusal is logged as a JSON line with the MASA's reason and the
# client's fingerprint, and nothing secret.
registrar_fp=$(openssl x509 -in registrar-ee.pem -outform DER | sha256sum | cut -d' ' -f1)
check "the refusal log names the stolen device's refusal and the client" 0 $py - masa.log "$registrar_fp" <<'EOF2'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
stolen = [l for l in lines if l.get("error") == "device_stolen"]
assert stolen and stolen[0]["status"] == 403 and stolen[0]["fingerprint"] == sys.argv[2], lines
assert any(l.get("error") == "rvr_not_from_caller" for l in lines), lines
assert not any("PRIVATE KEY" in json.dumps(l) for l in lines)
EOF2

# --- the HTTP exchange
same "an unknown media type: 415" 415 "$(post registrar text/plain $cms good.der)"
check "415: the reason says 'Content-Type must be'" 0 grep -qF "Content-Type must be" r.txt
same "an Accept it cannot serve: 406" 406 "$(post registrar $cms application/pdf good.der)"
check "406: the reason says 'Accept header'" 0 grep -qF "Accept header" r.txt
head -c 100000 /dev/urandom > big.bin
same "an oversize body: 413" 413 "$(post registrar $cms $cms big.bin)"
check "413: the reason says 'larger than this MASA accepts'" 0 grep -qF "larger than this MASA accepts" r.txt
check "no client certificate: curl fails at the handshake" 0 sh -c \
  "! curl -s -o nocert.txt --cacert $masa_ca -H 'Content-Type: $cms' --data-binary @good.der $url/.well-known/brski/requestvoucher"
check "and no HTTP answer came" 1 test -s nocert.txt

# --- the rate limit: a MASA allowing one request a second, bursts of two
kill -TERM $masa_pid; wait $masa_pid; masa_pid=
sed -e 's/^rate_per_second = .*/rate_per_second = 1/' -e 's/^rate_burst = .*/rate_burst = 2/' \
  home/masa.toml > limited.toml
serve limited.log --config limited.toml
codes=$(for _ in 1 2 3 4; do post registrar $cms $cms good.der; echo; done | tr '\n' ' ')
same "the burst passes, then 429" "200 200 429 429 " "$codes"
check "429: the reason says 'Too many requests from this client certificate'" 0 \
  grep -qF "Too many requests from this client certificate" r.txt
check "429: with Retry-After" 0 grep -qi '^retry-after: [0-9]' h.txt

kill -TERM $masa_pid; wait $masa_pid; masa_pid=
echo "took $((SECONDS - started)) s"
finish
