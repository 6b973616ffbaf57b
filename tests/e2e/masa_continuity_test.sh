#!/usr/bin/env bash
# Business continuity: a MASA with devices, owners, a stolen report, a
# rolled-over key and audit logs is exported to one encrypted bundle and
# restored on a fresh home elsewhere. The restored MASA (over TLS on
# loopback) returns the same audit logs and signs vouchers the same
# devices accept (the same anchor), and keeps refusing the stolen device.
# A wrong passphrase, an altered bundle and a home in use are refused.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$lib/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$lib/masa_lib.sh"
export VOUCHSAFE_CONTINUITY_PASSPHRASE=continuity-test-passphrase

make_manufacturer 1 2 3
make_owner
"$vs" masa init >/dev/null
"$vs" masa key rollover >/dev/null
serve old.log
masa_ca=$work/home/masa/masa-ca.pem
request() {  # request DEVICE [flags]
  local n=$1; shift
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$n.pem --pledge-key dev$n.key "$@"
}
audit_log() {
  "$vs" registrar request-audit-log --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$1.pem --pledge-key dev$1.key
}
request 1 --form cms --out old1.cms >/dev/null
request 1 --form cose --out old1.cose >/dev/null
request 2 --form jws --out old2.jws >/dev/null
audit_log 1 > old-log1.json
audit_log 2 > old-log2.json
"$vs" device report-stolen WG-F1-00000003 --reason "case 7" >/dev/null
"$vs" device assign-owner WG-F1-00000002 --anchor owner-ca.pem >/dev/null
kill -TERM $masa_pid; wait $masa_pid; masa_pid=

check "export the MASA" 0 "$vs" masa export-continuity --out masa.vsc
check "the bundle is private" 0 sh -c '[ "$(stat -c %a masa.vsc)" = 600 ]'
check "nothing in it is readable" 1 grep -q "BEGIN CERTIFICATE\|WG-F1" masa.vsc

# The new home, somewhere else; the old one is gone.
mv home old-home-archived
check "import on a fresh home" 0 "$vs" masa import-continuity --home "$work/new home" --in masa.vsc
check "paths point at the new home" 0 grep -q "new home/masa/signing.pem" "new home/masa.toml"
check "not the old one" 1 grep -q "$work/home/" "new home/masa.toml"
masa_ca_new="$work/new home/masa/masa-ca.pem"
VOUCHSAFE_HOME="$work/new home" serve new.log --home "$work/new home"
masa_ca=$masa_ca_new
audit_log 1 > new-log1.json
audit_log 2 > new-log2.json
check "the restored MASA returns the same audit log (1)" 0 $py - old-log1.json new-log1.json <<'PY'
import json, sys
old, new = (json.load(open(p)) for p in sys.argv[1:3])
assert old == new, (old, new)
PY
check "and (2)" 0 cmp -s old-log2.json new-log2.json
check "a voucher from the restored MASA" 0 request 2 --form cms --out new2.cms
check "verifies with the old anchor the device holds" 0 \
  "$vs" voucher verify --anchor old-home-archived/masa/masa-ca.pem new2.cms
check "and with openssl" 0 openssl cms -verify -binary -inform DER -in new2.cms \
  -CAfile old-home-archived/masa/masa-ca.pem -purpose any -out /dev/null
same "signed by the rolled-over key, as before" \
  "$("$vs" voucher inspect --json old1.cms | $py -c 'import json,sys; print(json.load(sys.stdin)["signer_chain"][0]["sha256"])')" \
  "$("$vs" voucher inspect --json new2.cms | $py -c 'import json,sys; print(json.load(sys.stdin)["signer_chain"][0]["sha256"])')"
check "the stolen device is still refused" 1 request 3 --form cms --out /dev/null
check "old vouchers still verify" 0 "$vs" voucher verify --anchor "$masa_ca_new" old2.jws
kill -TERM $masa_pid; wait $masa_pid; masa_pid=

check "a wrong passphrase is refused" 2 env VOUCHSAFE_CONTINUITY_PASSPHRASE=wrong-passphrase \
  "$vs" masa import-continuity --home "$work/third" --in masa.vsc
check "leaving nothing behind" 0 test ! -e "$work/third/masa.toml"
$py -c '
import json, sys
b = json.load(open("masa.vsc")); c = b["ciphertext"]
b["ciphertext"] = ("B" if c[10] != "B" else "C").join([c[:10], c[11:]])
json.dump(b, open("altered.vsc", "w"))'
check "an altered bundle is refused" 2 "$vs" masa import-continuity --home "$work/fourth" --in altered.vsc
check "as altered" 0 grep -q "altered" err
head -c 100 masa.vsc > cut.vsc
check "a truncated bundle is refused" 1 "$vs" masa import-continuity --home "$work/fifth" --in cut.vsc
check "a home in use is refused" 2 "$vs" masa import-continuity --home "$work/new home" --in masa.vsc
check "with the reason" 0 grep -q "fresh home" err
finish
