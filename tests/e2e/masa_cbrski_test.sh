#!/usr/bin/env bash
# The published cBRSKI registrar voucher-request (constrained-voucher -29
# C.4), posted as published with curl over real TLS, gets a COSE voucher
# from our MASA once the draft's MASA CA (which signs its IDevIDs) and the
# pledge are imported. Its pledge request (C.3) names no signer, as the
# draft says a pledge SHOULD; the MASA finds the IDevID by serial number.
# Python's cbor2 and cryptography check the voucher.
#
# C.4 was made on 2022-12-06 but its pledge's IDevID is valid only from
# 2022-12-09 12:50:47Z; the MASA runs under libfaketime just after, with
# max_request_age raised to 4 days. Loopback only; the MASA is stopped.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
vectors=${VOUCHSAFE_VECTORS_DIR:?set by ctest}/cbrski
src=${VOUCHSAFE_SOURCE_DIR:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"

command -v faketime >/dev/null || { echo "faketime is missing: run scripts/setup" >&2; exit 2; }
then_utc='2022-12-09 13:00:00'

check "pki init" 0 "$vs" pki init --organization "Stok" --masa-url masa.stok.nl
printf '\n[products.sensor]\nhw_type = "1.3.6.1.4.1.99999.3.1"\nserial_prefix = "JADA"\n' \
  >> home/vouchsafe.toml
check "the draft's MASA CA, imported as the issuing CA of its IDevIDs" 0 \
  "$vs" pki issuing-ca import --name stok --certificate "$vectors/C.2.4-masa-ca.cert.derived.pem" \
  --product sensor
check "the pledge JADA123456789 is imported" 0 \
  "$vs" device import --certificate "$vectors/C.2.1-pledge-idevid.cert.derived.pem" --product sensor

# The registrar's TLS identity: the certificate that signed C.4 (its x5bag's
# first entry) with the draft's registrar key.
check "the RVR signer is read out of its x5bag" 0 $py - "$vectors/C.4-rvr.cose.derived.bin" <<'EOF'
import cbor2, ssl, sys
msg = cbor2.loads(open(sys.argv[1], "rb").read())
bag = msg.value[1][32]
open("registrar.pem", "w").write(ssl.DER_cert_to_PEM_cert(bag[0]))
EOF

check "masa init (2022-12-09 12:55)" 0 env TZ=UTC faketime -m '2022-12-09 12:55:00' "$vs" masa init
sed -i -e 's/^max_request_age = .*/max_request_age = "4d"/' home/masa.toml
check "max_request_age raised" 0 grep -q '^max_request_age = "4d"' home/masa.toml
rm -f ready
TZ=UTC faketime -m "$then_utc" "$vs" masa serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  --ready-file ready >masa.log 2>&1 &
launcher=$!
for _ in $(seq 1 100); do [ -s ready ] && break; sleep 0.1; done
masa_pid=$(tr -d ' ' < "/proc/$launcher/task/$launcher/children")
read -r port _ < ready

post() {  # post OUT: the HTTP status
  TZ=UTC faketime -m "$then_utc" curl -s -o "$1" -w '%{http_code}' --max-time 20 \
    --cacert home/masa/masa-ca.pem --cert registrar.pem --key "$vectors/C.1.2-registrar.key.pem" \
    -H "Content-Type: application/voucher+cose" -H "Accept: application/voucher+cose" \
    --data-binary @"$vectors/C.4-rvr.cose.derived.bin" "https://127.0.0.1:$port/.well-known/brski/requestvoucher"
}
same "the published C.4 gets a voucher" 200 "$(post voucher.cose)"
check "python cbor2 + cryptography verify it with our signing certificate" 0 \
  $py "$src/tests/interop/verify_cose.py" voucher.cose home/masa/signing.pem
check "it names the pledge, carries C.3's nonce and asserts proximity" 0 $py - <<'EOF'
import cbor2
v = cbor2.loads(cbor2.loads(open("voucher.cose", "rb").read()).value[2])[2451]
assert v[11] == "JADA123456789", v   # serial-number (SID 2462)
assert v[7] == bytes.fromhex("23BFBBC9C2BCF213"), v  # nonce (SID 2458)
assert v[1] == 2, v                  # assertion proximity (SID 2452)
EOF
kill -TERM "$masa_pid"; wait "$launcher"; masa_pid=
finish
