#!/usr/bin/env bash
# Issue #4's acceptance, through the CLI and over real TLS: the RFC 8995
# Appendix C registrar voucher-request (C.2.2), posted as published by curl
# with the registrar's own certificate (C.1.4), gets a voucher from our MASA
# once the vendor CA (C.1.1) and the pledge's IDevID (embedded in C.2.1) are
# imported. The vector's certificates expired (C.1.4 on 2022-02-24), and the
# MASA refuses a request made more than an hour before its clock, so the
# MASA and the registrar run under libfaketime a quarter of an hour after
# the request's created-on (2021-04-13T21:43:23Z): the product has no test
# clock. Loopback only; every MASA started here is stopped.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
vectors=${VOUCHSAFE_VECTORS_DIR:?set by ctest}/rfc8995
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"

if ! command -v faketime >/dev/null; then
  echo "faketime is missing: run scripts/setup (Debian package faketime)" >&2
  exit 2
fi

vendor_ca=$vectors/C.1.1-vendor-ca.cert.pem
registrar_cert=$vectors/C.1.4-registrar-jrc_prime256v1.cert.pem
registrar_key=$vectors/C.1.4-registrar-jrc_prime256v1.key.pem
pledge_idevid=$vectors/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.embedded-certs.pem
rsa_signed_idevid=$vectors/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.cert.pem  # not under C.1.1
other_vendor_idevid=$VOUCHSAFE_VECTORS_DIR/cbrski/C.2.1-pledge-idevid.cert.derived.pem
rvr=$vectors/C.2.2-registrar-voucher-request_parboiled_vr_00-D0-E5-F2-00-02.derived.der
serial=00-D0-E5-F2-00-02
nonce=-_XE9zK9q8Ll1qylMtLKeg
# Inside every vector certificate's validity; the MASA's keys are made an hour before.
then_utc='2021-04-13 22:00:00'
then_epoch=$(date -u -d "$then_utc" +%s)
at_then() { TZ=UTC faketime -m "$then_utc" "$@"; }

device_count() { "$vs" device list --json | $py -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# --- the manufacturer: a home with the product "highway" (Appendix C's MASA)
check "pki init" 0 "$vs" pki init --organization "Highway Test" --masa-url highway-test.example.com:9443
printf '\n[products.highway]\nhw_type = "1.3.6.1.4.1.99999.2.1"\nserial_prefix = "HW"\n' \
  >> home/vouchsafe.toml

# --- the vendor CA, imported by its certificate alone
check "a non-CA certificate is not imported as a CA" 1 \
  "$vs" pki issuing-ca import --name reg --certificate "$registrar_cert"
check "and the operator is told why" 0 grep -q "not a CA certificate" err
check "the vendor CA is imported" 0 \
  "$vs" pki issuing-ca import --name highway-test --certificate "$vendor_ca" --product highway
check "a name twice is refused" 1 \
  "$vs" pki issuing-ca import --name highway-test --certificate "$vendor_ca"
check "as a duplicate" 0 grep -q "a CA named highway-test exists" err
check "the same certificate under another name is refused" 1 \
  "$vs" pki issuing-ca import --name highway-2 --certificate "$vendor_ca"
check "as recorded already" 0 grep -q "recorded already, as CA highway-test" err
check "the list shows it as imported" 0 sh -c "\"$vs\" pki issuing-ca list | grep -q '^highway-test	issuing	imported'"
check "and so does --json" 0 sh -c "\"$vs\" pki issuing-ca list --json | $py -c 'import json,sys; assert [c for c in json.load(sys.stdin) if c[\"name\"]==\"highway-test\"][0][\"status\"]==\"imported\"'"

# --- issuance never uses a keyless CA
"$vs" pki issuing-ca create --name f1 --product widget >/dev/null
device_csr 1
check "naming the imported CA for issuance is refused" 2 \
  "$vs" idevid issue --csr dev1.csr --serial WG-F1-00000001 --issuing-ca highway-test
check "because it has no key" 0 grep -q "imported CA has no key; it cannot issue" err
check "a product with only an imported CA has nothing to issue from" 2 \
  "$vs" idevid issue --csr dev1.csr --serial HW-F1-00000001 --product highway
check "and says how to get a CA" 0 grep -q "no active issuing CA for product highway" err
check "our own CA still issues" 0 "$vs" idevid issue --csr dev1.csr --serial WG-F1-00000001 --cert-out dev1.pem

# --- device import refusals: the store stays unchanged
check "a certificate without a serial is refused" 1 \
  "$vs" device import --certificate "$registrar_cert" --product highway
check "saying to give --serial" 0 grep -q "no subject serialNumber.*--serial" err
check "an IDevID no recorded CA signed is refused" 1 \
  "$vs" device import --certificate "$rsa_signed_idevid" --product highway
check "saying which CA to import" 0 grep -q "not signed by any recorded issuing CA.*issuing-ca import" err
cat "$pledge_idevid" "$other_vendor_idevid" > mixed.pem
check "--serial with two certificates is a usage error" 2 \
  "$vs" device import --certificate mixed.pem --product highway --serial X-1
check "--serial is for one certificate" 0 grep -q -- "--serial names one device" err
check "a file with one unsigned IDevID imports none" 1 \
  "$vs" device import --certificate mixed.pem --product highway
check "naming the bad one" 0 grep -q "certificate #2 (.*JADA123456789.*) is not signed" err
same "nothing was recorded" 1 "$(device_count)"
check "an unknown product is a usage error" 2 \
  "$vs" device import --certificate "$pledge_idevid" --product nosuch
check "naming a CA that did not sign it is refused" 1 \
  "$vs" device import --certificate "$pledge_idevid" --product highway --issuing-ca f1
check "as not signed by it" 0 grep -q "not signed by issuing CA f1" err

# --- the MASA, under libfaketime: keys made at 21:00, serving from 22:00
check "masa init (2021-04-13 21:00)" 0 env TZ=UTC faketime -m '2021-04-13 21:00:00' "$vs" masa init
masa_ca=home/masa/masa-ca.pem
# faketime runs the program as its child and passes no signal on: the MASA's
# pid is that child's, read from /proc.
serve_at() {  # serve_at LOG [WHEN]: a MASA whose clock starts at WHEN (UTC), else the real one
  local log=$1 when=${2:-}
  rm -f ready
  if [ -n "$when" ]; then
    TZ=UTC faketime -m "$when" "$vs" masa serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
      --ready-file ready >"$log" 2>&1 &
  else
    "$vs" masa serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file ready >"$log" 2>&1 &
  fi
  launcher=$! masa_pid=$!
  for _ in $(seq 1 100); do [ -s ready ] && break; sleep 0.1; done
  [ -n "$when" ] && masa_pid=$(tr -d ' ' < "/proc/$launcher/task/$launcher/children")
  read -r port _ < ready
  url=https://127.0.0.1:$port
}
stop_masa() { kill -TERM "$masa_pid"; wait "$launcher"; masa_pid=; }
# The registrar posts the published RVR as it is, in 2021 too (the MASA's
# TLS certificate, made then, has expired since).
post() {  # post ENDPOINT OUT ACCEPT
  at_then curl -s -o "$2" -w '%{http_code}' --max-time 20 --cacert "$masa_ca" \
    --cert "$registrar_cert" --key "$registrar_key" \
    -H "Content-Type: application/voucher-cms+json" -H "Accept: $3" \
    --data-binary @"$rvr" "$url/.well-known/brski/$1"
}
serve_at masa.log "$then_utc"
check "the MASA started under faketime" 0 grep -q "MASA serving" masa.log

same "before the device is imported: 404" 404 "$(post requestvoucher r.txt application/voucher-cms+json)"
check "the device is imported" 0 "$vs" device import --certificate "$pledge_idevid" --product highway
check "under the imported CA, by its serialNumber" 0 grep -q "^$serial	highway	highway-test	imported" out
check "and shown with key mode imported" 0 sh -c "\"$vs\" device show $serial --json | grep -q '\"key_mode\": \"imported\"'"
check "importing it again is refused" 1 \
  "$vs" device import --certificate "$pledge_idevid" --product highway
check "as recorded already" 0 grep -q "device $serial is recorded already with this very certificate" err

same "the published registrar voucher-request gets a voucher" 200 \
  "$(post requestvoucher voucher.cms application/voucher-cms+json)"
check "openssl cms -verify accepts it at that time under the MASA anchor" 0 \
  openssl cms -verify -binary -inform DER -in voucher.cms -CAfile "$masa_ca" -purpose any \
  -attime "$then_epoch" -out voucher.json
# The pledge sent its nonce as base64url text and compares the voucher's as
# text (vectors/README.md: treat it as opaque): it must come back verbatim.
check "it names the pledge and carries the pledge's nonce, as sent" 0 $py - "$serial" "$nonce" <<'EOF'
import json, sys
v = json.load(open("voucher.json"))["ietf-voucher:voucher"]
assert v["serial-number"] == sys.argv[1], v
assert v["nonce"] == sys.argv[2], v
assert "pinned-domain-cert" in v, v
EOF
same "the audit log is returned" 200 "$(post requestauditlog log.json application/json)"
check "with the voucher's entry" 0 $py - "$nonce" <<'EOF'
import json, sys
log = json.load(open("log.json"))
assert len(log["events"]) == 1, log
e = log["events"][0]
assert e["date"].startswith("2021-04-13T22:00"), e
assert e["nonce"] == sys.argv[1], e  # as the registrar sent it
EOF
stop_masa

# --- on the real clock the registrar's certificate has expired
serve_at masa-now.log
same "on today's clock the request is refused: 403" 403 "$(post requestvoucher r.txt application/voucher-cms+json)"
check "because a certificate expired" 0 grep -qi "expired" r.txt
stop_masa

for cmd in "pki issuing-ca import" "device import"; do
  # shellcheck disable=SC2086
  check "help of '$cmd' has examples and exit codes" 0 \
    sh -c "\"$vs\" $cmd --help | grep -q EXAMPLES && \"$vs\" $cmd --help | grep -q 'EXIT CODES'"
done
finish
