#!/usr/bin/env bash
# Writes the seed files of the fuzz targets added for issue 9 (masa_request,
# csr, x509, pem_key, pkcs12, accept, seeds_csv, sales_csv; serial_list of
# issue 12; ticket_row) from the
# published vectors and the openssl CLI. Run from the repository root; it
# overwrites only the files it names. The minimised corpora committed beside
# them came from fuzzing these (scripts/fuzz; fuzz/README.md).
set -euo pipefail
vectors=${VOUCHSAFE_VECTORS_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/shared/vectors}
c=fuzz/corpus
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p $c/{masa_request,csr,x509,pem_key,pkcs12,accept,seeds_csv,sales_csv,serial_list,proxy_header}

# masa_request: a header byte, then the body (fuzz_masa_request.cpp).
with_header() { { printf "\\x$1"; cat "$2"; } > "$3"; }
rvr=$vectors/rfc8995/C.2.2-registrar-voucher-request_parboiled_vr_00-D0-E5-F2-00-02.derived.der
with_header 00 "$rvr" $c/masa_request/rfc8995-c2.2-rvr-cms
with_header 04 "$rvr" $c/masa_request/rfc8995-c2.2-rvr-auditlog
with_header 18 "$rvr" $c/masa_request/rfc8995-c2.2-rvr-accept-jws-or-any
with_header 60 "$rvr" $c/masa_request/rfc8995-c2.2-rvr-unknown-client
with_header 00 "$vectors/rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived.der" \
  $c/masa_request/rfc8995-c2.1-pvr-posted-alone
with_header 00 "$vectors/rfc8995/C.2.3-voucher_00-D0-E5-F2-00-02.derived.der" \
  $c/masa_request/rfc8995-c2.3-voucher-posted
with_header 21 "$vectors/jws-voucher/s8-jws-rvr.json" $c/masa_request/jws-s8-rvr
with_header 25 "$vectors/jws-voucher/s8-jws-rvr.json" $c/masa_request/jws-s8-rvr-auditlog
with_header 42 "$vectors/cbrski/C.4-rvr.cose.derived.bin" $c/masa_request/cbrski-c4-rvr
with_header 5a "$vectors/cbrski/C.4-rvr.cose.derived.bin" $c/masa_request/cbrski-c4-rvr-accept-cose-json
with_header 43 "$vectors/cbrski/C.4-rvr.cose.derived.bin" $c/masa_request/cbrski-c4-rvr-wrong-type

# csr: device requests as factories send them, DER and PEM.
csr() {  # csr NAME KEYOPTS SUBJECT [FORM]
  openssl genpkey $2 -out $tmp/$1.key 2>/dev/null
  openssl req -new -key $tmp/$1.key -subj "$3" -outform "${4:-DER}" -out $c/csr/$1
}
csr p256-serial.der "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" "/serialNumber=WG-F1-00000001/CN=widget"
csr p384-serial.pem "-algorithm EC -pkeyopt ec_paramgen_curve:P-384" "/serialNumber=WG-F1-00000002" PEM
csr p256-no-serial.der "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" "/CN=no serial"
csr ed25519.der "-algorithm ED25519" "/serialNumber=WG-F1-00000003"
csr rsa1024.der "-algorithm RSA -pkeyopt rsa_keygen_bits:1024" "/serialNumber=WG-F1-00000004"

# x509: the vectors' certificates, one DER, PEM chains.
cp "$vectors/rfc8995/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.cert.pem" $c/x509/rfc8995-idevid.pem
cp "$vectors/rfc8995/C.2.2-registrar-voucher-request_parboiled_vr_00-D0-E5-F2-00-02.derived.embedded-certs.pem" \
  $c/x509/rfc8995-registrar-chain.pem
cp "$vectors/cbrski/C.2.1-pledge-idevid.cert.derived.der" $c/x509/cbrski-idevid.der
cp "$vectors/cbrski/C.2.2-registrar.cert.derived.der" $c/x509/cbrski-registrar.der
cp "$vectors/rfc8366bis/A-00-D0-E5-F2-00-02.crt" $c/x509/rfc8366bis-idevid.crt
openssl x509 -in "$vectors/rfc8995/C.1.1-vendor-ca.cert.pem" -outform DER -out $c/x509/rfc8995-vendor-ca.der
cat "$vectors/rfc8995/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.cert.pem" \
  "$vectors/rfc8995/C.1.1-vendor-ca.cert.pem" > $c/x509/rfc8995-idevid-chain.pem

# pem_key: a first byte (1: with the passphrase fuzz-passphrase), then the file.
pass=fuzz-passphrase
key_seed() { with_header "$1" "$2" "$c/pem_key/$3"; }
key_seed 00 "$vectors/rfc8995/C.1.2-masa.key.pem" rfc8995-masa-sec1.pem
key_seed 00 "$vectors/cbrski/C.1.1-pledge-idevid.key.pem" cbrski-pledge.pem
openssl pkcs8 -topk8 -in "$vectors/rfc8995/C.1.2-masa.key.pem" -v2 aes-256-cbc -iter 10 \
  -passout pass:$pass -out $tmp/pbes2.pem
key_seed 01 $tmp/pbes2.pem pkcs8-pbes2-aes-10-iterations.pem
key_seed 00 $tmp/pbes2.pem pkcs8-encrypted-no-passphrase.pem
openssl pkcs8 -topk8 -in "$vectors/rfc8995/C.1.2-masa.key.pem" -v2 aes-128-cbc -scrypt \
  -scrypt_N 16 -scrypt_r 1 -scrypt_p 1 -passout pass:$pass -out $tmp/scrypt.pem
key_seed 01 $tmp/scrypt.pem pkcs8-scrypt-small.pem
openssl ec -in "$vectors/rfc8995/C.1.2-masa.key.pem" -aes128 -passout pass:$pass -out $tmp/legacy.pem 2>/dev/null
key_seed 01 $tmp/legacy.pem sec1-proc-type-encrypted.pem
openssl pkey -in "$vectors/rfc8995/C.1.2-masa.key.pem" -outform DER -out $tmp/key.der
key_seed 00 $tmp/key.der pkcs8.der
openssl genpkey -algorithm ED25519 -out $tmp/ed.pem
key_seed 00 $tmp/ed.pem ed25519.pem
openssl pkey -in "$vectors/rfc8995/C.1.2-masa.key.pem" -pubout -out $tmp/pub.pem
key_seed 00 $tmp/pub.pem public-key.pem

# pkcs12: the pledge's identity bundle, with the target's passphrase.
p12() {  # p12 NAME OPTS...
  local name=$1; shift
  openssl pkcs12 -export -inkey "$vectors/rfc8995/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.key.pem" \
    -in "$vectors/rfc8995/C.1.5-pledge-idevid_00-D0-E5-F2-00-02.cert.pem" \
    -certfile "$vectors/rfc8995/C.1.1-vendor-ca.cert.pem" -passout pass:$pass "$@" -out $c/pkcs12/$name
}
p12 aes-sha256.p12 -iter 16 -maciter
p12 no-mac.p12 -iter 16 -nomac
p12 legacy-3des.p12 -iter 16 -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1
p12 wrong-passphrase.p12 -iter 16 -passout pass:other

# accept: "content-type\naccept".
printf 'application/voucher-cms+json\n' > $c/accept/cms-no-accept
printf 'application/voucher-cms+json\napplication/voucher-jws+json;q=0.5, application/voucher+cose;q=0.8' \
  > $c/accept/weights
printf 'Application/Voucher+COSE ; charset=x\n*/*;q=0, application/*' > $c/accept/cose-case-params
printf 'application/voucher-cose+cbor\napplication/json, text/plain;q=1.0' > $c/accept/legacy-cose
printf 'application/json\napplication/json' > $c/accept/audit-json

# seeds_csv: the vendor's seed batch.
printf '# lot 17\nWG-1,%s\r\n\n  WG-2 , %s\n' "$(printf 'ab%.0s' $(seq 32))" "$(printf '0f%.0s' $(seq 32))" \
  > $c/seeds_csv/two-seeds.csv
printf 'WG-1,abcd\n' > $c/seeds_csv/short-seed.csv
printf 'WG-1;%s\n' "$(printf 'ab%.0s' $(seq 32))" > $c/seeds_csv/no-comma.csv

# serial_list: the serials `device export --serials` reads.
printf '# shipment 7\nWG-1\n\n  WG-2 \r\n\t# not this\nWG 3\n' > $c/serial_list/shipment.txt
printf 'WG-SZ1-00000001\r\nWG-SZ1-00000002\r\n' > $c/serial_list/crlf.txt
head -c 300 /dev/zero | tr '\0' 'S' > $c/serial_list/too-long.txt

# sales_csv: the sales system's owner file.
ca=$(openssl x509 -in "$vectors/rfc8995/C.1.3-ownerca_secp384r1.cert.pem" -outform DER | base64 -w0)
printf 'serial,certificate\n# November\n00-D0-E5-F2-00-02,%s\r\nWG-2,%s\n' "$ca" "$ca" > $c/sales_csv/two-owners.csv
printf 'WG-1,bm90IGEgY2VydA==\n' > $c/sales_csv/not-a-certificate.csv
printf 'WG-1\n' > $c/sales_csv/no-comma.csv

# proxy_header: what haproxy's send-proxy-v2 sends (IPv4; IPv6 with a TLV; a
# health check's LOCAL), and a version 1 text line, which is refused.
sig='\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a'
printf "${sig}\x21\x11\x00\x0c\xc6\x33\x64\x07\xc0\x00\x02\x01\x9c\x40\x01\xbb" > $c/proxy_header/ipv4
printf "${sig}\x21\x21\x00\x2a\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x30\x39\x01\xbb\x04\x00\x03abc" > $c/proxy_header/ipv6-tlv
printf "${sig}\x20\x00\x00\x00" > $c/proxy_header/local
printf 'PROXY TCP4 198.51.100.7 192.0.2.1 40000 443\r\n' > $c/proxy_header/version1-text

# ticket_row: a session-ticket key row as the store returns it, sealed by
# Python's cryptography under the target's passphrase for slot 7; cut short;
# a key in the clear; and one asking for N = 2^30.
mkdir -p $c/ticket_row
unhex() { /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
row=$(/usr/bin/python3 tests/interop/ticket_row.py seal fuzz-passphrase 7 "$(head -c 80 /dev/urandom | od -An -tx1 | tr -d ' \n')")
unhex "$row" > $c/ticket_row/sealed
unhex "${row:0:100}" > $c/ticket_row/truncated
head -c 80 /dev/urandom > $c/ticket_row/in-the-clear
unhex "011e${row:4}" > $c/ticket_row/exorbitant-cost
