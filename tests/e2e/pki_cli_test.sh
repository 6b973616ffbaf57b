#!/usr/bin/env bash
# The manufacturer PKI as an operator runs it: init, issuing CAs, the four
# ways to key a device, batches that resume after kill -9, and the device
# listings. Certificates are checked with `openssl verify -x509_strict`,
# GnuTLS `certtool --verify-chain` and a Python profile checker.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
src=${VOUCHSAFE_SOURCE_DIR:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

cd "$work"
export VOUCHSAFE_HOME=$work/home
export VOUCHSAFE_CA_PASSPHRASE=ca-test-passphrase
device_count() { "$vs" device list --json | $py -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
store_digest() { "$vs" device export --format csv | sha256sum; }

# --- init, under the usual umask: the home is its owner's alone all the same
umask 022
check "pki init" 0 "$vs" pki init --organization "Test Devices" --masa-url masa.test.example:8443
check "init prints next steps" 0 grep -q "Next steps" out
same "the home is 0700 under umask 022" 700 "$(stat -c %a home)"
same "keys/ and certs/ are 0700" "700 700" "$(stat -c %a home/keys) $(stat -c %a home/certs)"
same "assets.db is 0600" 600 "$(stat -c %a home/assets.db)"
check "umask 000: pki init" 0 sh -c "umask 000; \"$vs\" pki init --home home000 >/dev/null"
same "umask 000: the home and assets.db are 0700 and 0600" "700 600" \
  "$(stat -c %a home000) $(stat -c %a home000/assets.db)"
mkdir -m 755 shared-home
check "a home others can read works" 0 "$vs" device list --home shared-home
check "with a warning naming the fix" 0 grep -q "chmod 700 shared-home" err
root_before=$(sha256sum home/certs/root-ca.pem)
check "pki init again" 0 "$vs" pki init
check "init again says nothing changed" 0 grep -q "nothing changed" out
same "init again keeps the root" "$root_before" "$(sha256sum home/certs/root-ca.pem)"
check "root key is encrypted on disk" 0 grep -q "ENCRYPTED PRIVATE KEY" home/keys/root-ca.key.pem
check "root is P-384 with no expiry" 0 sh -c "openssl x509 -in home/certs/root-ca.pem -noout -text | grep -q 'NIST CURVE: P-384' && openssl x509 -in home/certs/root-ca.pem -noout -enddate | grep -q 'Dec 31 23:59:59 9999'"

# --- issuing CAs
check "wrong passphrase is refused" 2 env VOUCHSAFE_CA_PASSPHRASE=wrong-passphrase "$vs" pki issuing-ca create --name bad --product widget
check "nothing written on a wrong passphrase" 1 test -e home/certs/issuing-bad.pem
check "issuing CA a" 0 "$vs" pki issuing-ca create --name sz1-a --factory SZ1 --product widget
check "issuing CA b" 0 "$vs" pki issuing-ca create --name sz1-b --factory SZ1 --product widget
check "issuing CA for an unknown product" 2 "$vs" pki issuing-ca create --name x --product gadget
cat home/certs/issuing-sz1-a.pem > chain-a.pem

# --- key made on the device: CSR
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev1.key \
  -subj "/serialNumber=WG-SZ1-00000001" -out dev1.csr 2>/dev/null
check "issue from a CSR" 0 "$vs" idevid issue --csr dev1.csr --serial WG-SZ1-00000001 --issuing-ca sz1-a --cert-out dev1.pem
check "openssl verify -x509_strict" 0 openssl verify -x509_strict -CAfile home/certs/root-ca.pem -untrusted chain-a.pem dev1.pem
cat dev1.pem chain-a.pem > dev1-chain.pem
check "certtool --verify against the root" 0 sh -c "certtool --verify --verify-profile high --load-ca-certificate home/certs/root-ca.pem --infile dev1-chain.pem | grep -q 'Chain verification output: Verified'"
cat dev1-chain.pem home/certs/root-ca.pem > dev1-full.pem
check "certtool --verify-chain" 0 sh -c "certtool --verify-chain --verify-profile high --infile dev1-full.pem | grep -q 'Chain verification output: Verified'"
check "the certificate holds the device's key" 0 sh -c "[ \"\$(openssl x509 -in dev1.pem -pubkey -noout)\" = \"\$(openssl pkey -in dev1.key -pubout)\" ]"
check "python checks every profile field" 0 $py "$src/tests/interop/check_idevid.py" dev1.pem chain-a.pem \
  --serial WG-SZ1-00000001 --hw-type 1.3.6.1.4.1.99999.1.1 --masa-url masa.test.example:8443 \
  --organization "Test Devices" --organizational-unit "" --common-name WG-SZ1-00000001
check "the python checker fails on a wrong serial" 1 $py "$src/tests/interop/check_idevid.py" dev1.pem chain-a.pem \
  --serial WG-SZ1-00000009 --hw-type 1.3.6.1.4.1.99999.1.1 --masa-url masa.test.example:8443 \
  --organization "Test Devices" --organizational-unit "" --common-name WG-SZ1-00000001
before=$(store_digest)
check "a second IDevID for the same serial is refused" 1 "$vs" idevid issue --csr dev1.csr --serial WG-SZ1-00000001
check "a reissue needs a reason" 2 "$vs" idevid issue --csr dev1.csr --serial WG-SZ1-00000001 --reissue
same "refusals leave the store unchanged" "$before" "$(store_digest)"
check "a reissue with a reason" 0 "$vs" idevid issue --csr dev1.csr --serial WG-SZ1-00000001 --reissue --reason "RMA 1234"
check "the reissue is recorded" 0 sh -c "\"$vs\" device show WG-SZ1-00000001 --json | grep -q 'RMA 1234'"

# Bad CSRs: tampered signature, garbage; unknown or retired CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev2.key \
  -subj "/serialNumber=WG-SZ1-00000002" -outform DER -out dev2.der 2>/dev/null
$py - <<'PY'
data = bytearray(open("dev2.der", "rb").read())
data[-5] ^= 0x01   # inside the signature
open("dev2-bad.der", "wb").write(data)
PY
echo "not a CSR" > garbage.csr
before=$(store_digest)
check "a CSR whose signature does not verify" 1 "$vs" idevid issue --csr dev2-bad.der --serial WG-SZ1-00000002
check "the error names proof of possession" 0 grep -q "proof of possession" err
check "a malformed CSR" 1 "$vs" idevid issue --csr garbage.csr --serial WG-SZ1-00000002
check "a serial of another product" 1 "$vs" idevid issue --csr dev2.der --serial XX-SZ1-00000002 --product widget
check "an unknown issuing CA" 2 "$vs" idevid issue --csr dev2.der --serial WG-SZ1-00000002 --issuing-ca nope
check "retire CA b" 0 "$vs" pki issuing-ca retire sz1-b
check "the retired CA's key is destroyed" 1 test -e home/keys/issuing-sz1-b.key.pem
check "its certificate stays" 0 test -e home/certs/issuing-sz1-b.pem
check "a retired issuing CA" 2 "$vs" idevid issue --csr dev2.der --serial WG-SZ1-00000002 --issuing-ca sz1-b
check "a wrong passphrase" 2 env VOUCHSAFE_CA_PASSPHRASE=nope-nope-nope "$vs" idevid issue --csr dev2.der --serial WG-SZ1-00000002
same "bad input leaves the store unchanged" "$before" "$(store_digest)"

# --- key made off the device: encrypted PKCS#12 bundle
export VOUCHSAFE_BUNDLE_PASSPHRASE=bundle-test-passphrase
check "generate a key and bundle" 0 "$vs" idevid issue --generate --serial WG-SZ1-00000003 --out dev3.p12
check "the bundle opens with its passphrase" 0 openssl pkcs12 -in dev3.p12 -passin env:VOUCHSAFE_BUNDLE_PASSPHRASE -nodes -out dev3.pem
check "openssl reads the bundle's parameters" 0 sh -c "openssl pkcs12 -info -noout -in dev3.p12 -passin env:VOUCHSAFE_BUNDLE_PASSPHRASE 2> p12-info.txt"
check "the key bag: AES-256-CBC under PBKDF2-HMAC-SHA256, 600000 iterations" 0 \
  grep -q "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256" p12-info.txt
check "the MAC: SHA-256, 600000 iterations" 0 grep -q "MAC: sha256, Iteration 600000" p12-info.txt
check "python's cryptography opens the bundle" 0 $py -c "
import os
from cryptography.hazmat.primitives.serialization import pkcs12
key, cert, chain = pkcs12.load_key_and_certificates(open('dev3.p12', 'rb').read(), os.environb[b'VOUCHSAFE_BUNDLE_PASSPHRASE'])
assert key.curve.name == 'secp256r1' and 'WG-SZ1-00000003' in cert.subject.rfc4514_string() and len(chain) == 1
"
check "the bundle does not open without it" 1 openssl pkcs12 -in dev3.p12 -passin pass:wrong -nodes -out /dev/null
check "the bundle's certificate verifies" 0 sh -c "openssl pkcs12 -in dev3.p12 -passin env:VOUCHSAFE_BUNDLE_PASSPHRASE -clcerts -nokeys | openssl verify -x509_strict -CAfile home/certs/root-ca.pem -untrusted chain-a.pem"
check "no key file is left anywhere else" 0 sh -c "! grep -rl 'PRIVATE KEY' home --include='*WG-SZ1-00000003*'"

# --- keys derived from seeds, and DICE keys bound to the firmware
$py - <<'PY'
import os
with open("seeds.csv", "w") as f:
    f.write("# serial,seed (test lot)\n")
    for i in range(200):
        f.write(f"WG-SZ1-{10000 + i:08d},{os.urandom(32).hex()}\n")
with open("bad-length.csv", "w") as f:
    f.write(f"WG-SZ1-20000000,{os.urandom(31).hex()}\n")
with open("bad-hex.csv", "w") as f:
    f.write("WG-SZ1-20000001," + "zz" * 32 + "\n")
with open("dup.csv", "w") as f:
    s = os.urandom(32).hex()
    f.write(f"WG-SZ1-20000002,{s}\nWG-SZ1-20000002,{s}\n")
PY
before=$(store_digest)
check "a seed of the wrong length" 1 "$vs" idevid batch --product widget --seeds bad-length.csv --quiet
check "the error names the line" 0 grep -q "bad-length.csv:1" err
check "a seed that is not hex" 1 "$vs" idevid batch --product widget --seeds bad-hex.csv --quiet
check "a serial twice in one file" 1 "$vs" idevid batch --product widget --seeds dup.csv --quiet
same "bad seeds leave the store unchanged" "$before" "$(store_digest)"
check "seed batch" 0 "$vs" idevid batch --product widget --seeds seeds.csv --quiet
check "seed batch again issues nothing new" 0 "$vs" idevid batch --product widget --seeds seeds.csv --quiet
check "the rerun skipped all 200" 0 grep -q "already issued:   200" out
line=$(sed -n 2p seeds.csv); serial=${line%%,*}; seed=${line#*,}
"$vs" device show "$serial" --pem > seeded.pem
device_point=$($py "$src/tests/interop/derive_seed_key.py" "$seed")
cert_point=$(openssl x509 -in seeded.pem -noout -pubkey | openssl ec -pubin -noout -text 2>/dev/null | sed -n '/pub:/,/ASN1/p' | grep -v 'pub:\|ASN1' | tr -d ' :\n')
same "the device derives the key the factory certified" "$device_point" "$cert_point"
check "a seeded IDevID verifies" 0 openssl verify -x509_strict -CAfile home/certs/root-ca.pem -untrusted chain-a.pem seeded.pem

head -c 4096 /dev/urandom > firmware-1.bin; cp firmware-1.bin firmware-2.bin; echo x >> firmware-2.bin
sed 's/WG-SZ1-0001/WG-SZ1-0003/' seeds.csv > dice.csv
check "DICE batch bound to firmware 1" 0 "$vs" idevid batch --product widget --seeds dice.csv --firmware firmware-1.bin --quiet
line=$(sed -n 2p dice.csv); serial=${line%%,*}; seed=${line#*,}
"$vs" device show "$serial" --pem > dice.pem
fw1=$(sha256sum firmware-1.bin | cut -d' ' -f1); fw2=$(sha256sum firmware-2.bin | cut -d' ' -f1)
cert_point=$(openssl x509 -in dice.pem -noout -pubkey | openssl ec -pubin -noout -text 2>/dev/null | sed -n '/pub:/,/ASN1/p' | grep -v 'pub:\|ASN1' | tr -d ' :\n')
same "the maker computes the DICE key of firmware 1" "$($py "$src/tests/interop/derive_seed_key.py" "$seed" "$fw1")" "$cert_point"
check "another firmware gives another key" 0 test "$($py "$src/tests/interop/derive_seed_key.py" "$seed" "$fw2")" != "$cert_point"
check "DICE devices are recorded as such" 0 sh -c "\"$vs\" device show $serial --json | grep -q '\"key_mode\": \"dice\"'"

# --- CSR batch
mkdir csrs
for i in 1 2 3; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/serialNumber=WG-SZ1-0005000$i" -out csrs/d$i.csr 2>/dev/null
done
check "CSR batch" 0 "$vs" idevid batch --product widget --csr-dir csrs --quiet
check "CSR batch devices are listed" 0 sh -c "\"$vs\" device list | grep -c WG-SZ1-0005000 | grep -qx 3"

# --- crash safety: kill -9 in the middle of 20 000 devices, then resume
$py - <<'PY'
import os
with open("lot.csv", "w") as f:
    for i in range(20000):
        f.write(f"WG-SZ2-{i:08d},{os.urandom(32).hex()}\n")
PY
before_count=$(device_count)
"$vs" idevid batch --product widget --seeds lot.csv --chunk 256 --threads 1 --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  n=$(device_count); [ "$n" -gt "$((before_count + 1000))" ] && break; sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
mid=$(( $(device_count) - before_count ))
check "kill -9 landed inside the batch ($mid issued)" 0 test "$mid" -gt 0 -a "$mid" -lt 20000
check "the batch resumes after kill -9" 0 "$vs" idevid batch --product widget --seeds lot.csv --quiet
same "after the resume each device is there once" "$(( $(device_count) - before_count ))" 20000
"$vs" device export --format csv --product widget > export.csv
check "no serial twice in the export" 0 sh -c "cut -d, -f1 export.csv | sort | uniq -d | wc -l | grep -qx 0"
check "every resumed certificate verifies" 0 $py - <<'PY'
import base64, csv, sys
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
issuer = x509.load_pem_x509_certificate(open("chain-a.pem", "rb").read())
rows = [r for r in csv.DictReader(open("export.csv")) if r["serial"].startswith("WG-SZ2-")]
assert len(rows) == 20000, len(rows)
for r in rows:
    cert = x509.load_der_x509_certificate(base64.b64decode(r["certificate"]))
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    sn = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value
    assert sn == r["serial"], (sn, r["serial"])
PY

# --- Ctrl-C: the batch stops after the chunk in hand, says how to resume
$py - <<'PY'
import os
with open("lot3.csv", "w") as f:
    for i in range(40000):
        f.write(f"WG-SZ3-{i:08d},{os.urandom(32).hex()}\n")
PY
before_count=$(device_count)
"$vs" idevid batch --product widget --seeds lot3.csv --chunk 256 --threads 1 >sigint.out 2>sigint.err &
pid=$!
for _ in $(seq 1 200); do
  n=$(device_count); [ "$n" -gt "$((before_count + 500))" ] && break; sleep 0.05
done
kill -INT $pid; wait $pid; status=$?
check "Ctrl-C ends the batch with exit 2" 0 test "$status" -eq 2
check "Ctrl-C says how to resume" 0 grep -q "Run the same command again to resume" sigint.err
check "the batch resumes after Ctrl-C" 0 "$vs" idevid batch --product widget --seeds lot3.csv --quiet
same "after Ctrl-C and resume each device is there once" "$(( $(device_count) - before_count ))" 40000

# --- on a terminal the batch draws a progress bar with rate and ETA
head -300 lot3.csv | sed 's/WG-SZ3-/WG-SZ4-/' > tty.csv
check "progress on a terminal" 0 script -qec "$vs idevid batch --product widget --seeds tty.csv" tty.log
check "the bar shows rate and ETA" 0 grep -q "seeds \[#*\.*\] .*/s ETA" tty.log
check "without a terminal, plain lines" 0 sh -c "\"$vs\" idevid batch --product widget --seeds tty.csv 2>&1 >/dev/null | grep -q 'seeds: 300/300 (100%)'"

# --- listings for the sales systems
check "export as JSON parses" 0 sh -c "\"$vs\" device export --format json | $py -c 'import json,sys; d=json.load(sys.stdin); assert all(\"certificate\" in x for x in d)'"
check "show an unknown device" 1 "$vs" device show WG-NOPE-1
# A shipment's devices by serial, in the file's order, the same rows as the full export.
printf '# shipment 7\nWG-SZ3-00000007\n\n  WG-SZ2-00000003 \r\n' > shipment.txt
check "export of listed serials" 0 sh -c "\"$vs\" device export --format csv --serials shipment.txt > shipment.csv"
same "listed serials come out in the file's order" "$(cut -d, -f1 shipment.csv | tr -d '\r' | paste -sd' ')" \
  "serial WG-SZ3-00000007 WG-SZ2-00000003"
same "a listed device's row is its row of the full export" \
  "$(grep '^WG-SZ2-00000003,' shipment.csv)" "$(grep '^WG-SZ2-00000003,' export.csv)"
printf 'WG-SZ3-00000007\nWG-NOPE-1\nWG-NOPE-2\n' > unknown.txt
check "an unknown listed serial fails" 1 sh -c "\"$vs\" device export --format csv --serials unknown.txt >unknown.csv 2>unknown.err"
check "naming how many and the first" 0 grep -q '2 serial(s) of unknown.txt not in the store, the first: WG-NOPE-1' unknown.err
check "after writing the known ones" 0 grep -q '^WG-SZ3-00000007,' unknown.csv
head -c 2000 /dev/zero | tr '\0' 'A' > long.txt
check "an overlong line is refused" 1 "$vs" device export --serials long.txt
check "naming file and line" 0 grep -q 'long.txt:1: longer than a serial' err

# --- what the MASA needs to know: stolen devices, owners, policies
check "report a device stolen" 0 "$vs" device report-stolen WG-SZ1-00000001 --reason "case 7"
check "undo the report" 0 "$vs" device report-stolen WG-SZ1-00000001 --undo --reason "found"
check "report an unknown device" 1 "$vs" device report-stolen WG-NOPE-1
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/CN=Acme Owner CA" -days 30 -out owner.pem 2>/dev/null
check "assign an owner" 0 "$vs" device assign-owner WG-SZ1-00000001 --anchor owner.pem
check "known-customer policy" 0 "$vs" device set-policy WG-SZ1-00000001 known-customer
check "the policy must be known" 2 "$vs" device set-policy WG-SZ1-00000001 closed
owner_b64=$(openssl x509 -in owner.pem -outform DER | base64 -w0)
printf 'serial,owner\nWG-SZ1-00000003,%s\nWG-SZ2-00000001,%s\n' "$owner_b64" "$owner_b64" > sales.csv
check "bulk import from the sales system" 0 "$vs" device assign-owner --import sales.csv
printf 'WG-SZ1-00000003,%s\nWG-NOPE-9,%s\n' "$owner_b64" "$owner_b64" > bad-sales.csv
check "a bulk import with an unknown device changes nothing" 1 "$vs" device assign-owner --import bad-sales.csv
check "the bad line is named" 0 grep -q "bad-sales.csv:2" err
for cmd in "pki" "pki init" "pki issuing-ca create" "pki issuing-ca retire" "idevid issue" "idevid batch" "device list" "device show" "device export" "device report-stolen" "device assign-owner" "device set-policy"; do
  # shellcheck disable=SC2086
  check "help of '$cmd' has exit codes" 0 sh -c "\"$vs\" $cmd --help | grep -q 'EXIT CODES'"
done

finish
