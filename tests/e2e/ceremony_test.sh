#!/usr/bin/env bash
# Key ceremonies as officers hold them: the root key split 4-of-7 into
# share files each sealed to its holder's passphrase, the key file
# destroyed, then rebuilt in memory from four shares to create an issuing
# CA. Three shares, a corrupted share, a share from another split, a
# repeated index and a wrong passphrase are each refused, naming the file.
# Then the MASA CA key is split and a rollover is made from its shares.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
lib=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$lib/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$lib/masa_lib.sh"

"$vs" pki init --organization "Ceremony Devices" --masa-url 127.0.0.1 >/dev/null
"$vs" pki issuing-ca create --name f1 --product widget >/dev/null
holders=()
for i in 1 2 3 4 5 6 7; do
  printf 'holder %s passphrase\n' "$i" > holder$i.pass
  holders+=(--holder-passphrase-file holder$i.pass)
done
check "split the root key 4 of 7" 0 "$vs" pki root split --shares 7 --threshold 4 --out shares "${holders[@]}"
check "seven share files" 0 sh -c '[ "$(ls shares | wc -l)" -eq 7 ]'
check "the root key file is destroyed" 0 test ! -e home/keys/root-ca.key.pem
check "a share names its index, threshold, split and key fingerprint" 0 /usr/bin/python3 -c '
import json; s = json.load(open("shares/share-root-3.json"))
assert s["index"] == 3 and s["threshold"] == 4 and s["shares"] == 7, s
assert len(s["split_id"]) == 32 and len(s["key_fingerprint"]) == 64 and len(s["checksum"]) == 64
assert s["kdf"]["name"] == "scrypt" and s["cipher"]["name"] == "AES-256-GCM"'
check "the shares are private" 0 sh -c '[ "$(stat -c %a shares/share-root-1.json)" = 600 ]'
check "an issuing CA now needs the ceremony" 2 "$vs" pki issuing-ca create --name f2 --product widget
check "which it names" 0 grep -q "split among officers" err

share() {  # share N...: --share and --share-passphrase-file for each
  local n
  for n in "$@"; do printf -- '--share\nshares/share-root-%s.json\n--share-passphrase-file\nholder%s.pass\n' "$n" "$n"; done
}
recover() { mapfile -t args < <(share "$@"); "$vs" pki root recover "${args[@]}" "${extra[@]}"; }
extra=(--issuing-ca f2 --product widget)
check "four shares rebuild the root and make an issuing CA" 0 recover 2 4 6 7
check "it chains to the root" 0 openssl verify -CAfile home/certs/root-ca.pem home/certs/issuing-f2.pem
extra=()
check "any four do" 0 recover 1 2 3 5
check "three are refused" 1 recover 1 2 3
check "saying how many are needed" 0 grep -q "3 shares given; the root key needs 4 of its 7" err
cp shares/share-root-5.json corrupt.json
sed -i 's/"ciphertext": "\(.\)/"ciphertext": "A\1/' corrupt.json
check "a corrupted share is refused" 1 "$vs" pki root recover --share corrupt.json --share-passphrase-file holder5.pass \
  $(share 1 2 3 | tr '\n' ' ')
check "naming the file" 0 grep -q "share corrupt.json: the share is corrupted" err
check "a repeated index is refused" 1 recover 1 2 2 3
check "naming both files" 0 grep -q "repeats share index 2" err
printf 'wrong passphrase\n' > wrong.pass
check "a wrong passphrase is refused" 2 "$vs" pki root recover $(share 1 2 3 | tr '\n' ' ') \
  --share shares/share-root-4.json --share-passphrase-file wrong.pass
check "naming the share" 0 grep -q "share shares/share-root-4.json: wrong passphrase" err
# Another home's split of another root key.
VOUCHSAFE_HOME=$work/other "$vs" pki init --organization Other >/dev/null
VOUCHSAFE_HOME=$work/other "$vs" pki root split --shares 7 --threshold 4 --out other-shares "${holders[@]}" >/dev/null
check "a share from another split is refused" 1 "$vs" pki root recover $(share 1 2 3 | tr '\n' ' ') \
  --share other-shares/share-root-4.json --share-passphrase-file holder4.pass
check "naming it" 0 grep -q "share other-shares/share-root-4.json is from another split" err

# --- the MASA CA key, split; a rollover from its shares
"$vs" masa init >/dev/null
check "split the MASA CA key 3 of 5" 0 "$vs" pki root split --key masa-ca --shares 5 --threshold 3 \
  --out masa-shares "${holders[@]:0:10}"
check "its key file is destroyed" 0 test ! -e home/masa/masa-ca.key.pem
check "masa.toml records the split" 0 grep -q '^ca_key = "split:' home/masa.toml
check "a plain rollover now asks for the ceremony" 2 "$vs" masa key rollover
check "which it names" 0 grep -q "pki root recover --key masa-ca" err
check "a rollover from three MASA CA shares" 0 "$vs" pki root recover --key masa-ca \
  --share masa-shares/share-masa-ca-1.json --share-passphrase-file holder1.pass \
  --share masa-shares/share-masa-ca-3.json --share-passphrase-file holder3.pass \
  --share masa-shares/share-masa-ca-5.json --share-passphrase-file holder5.pass --rollover
check "root shares are not MASA CA shares" 1 "$vs" pki root recover --key masa-ca $(share 1 2 3 4 | tr '\n' ' ')
finish
