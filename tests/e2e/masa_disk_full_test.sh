#!/usr/bin/env bash
# /readyz tells the truth when the disk under an embedded (SQLite) MASA
# fills up: ready means a voucher can be issued now. The store lives on a
# small tmpfs of this test's own; a file fills it, vouchers get 503 and
# /readyz says the store is not writable; once the file is gone both
# recover without a restart. Needs root (mount); loopback only.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"

small=$work/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$small"; then
  echo "cannot mount a tmpfs at $small: this test needs root and mount(2)" >&2
  exit 2
fi
trap '[ -n "$masa_pid" ] && kill -9 $masa_pid 2>/dev/null; umount "$small"; rm -rf "$work"' EXIT

make_manufacturer 1 2 3
make_owner
check "masa init" 0 "$vs" masa init
# The home's store, copied whole onto the small filesystem.
sqlite3 home/assets.db ".backup '$small/assets.db'"
serve masa.log --store "$small/assets.db"
masa_ca=home/masa/masa-ca.pem
admin=http://127.0.0.1:$admin_port

request() {  # request DEVICE
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$1.pem --pledge-key dev$1.key --out v$1.cms
}
readyz() { curl -s -o ready.txt -w '%{http_code}' --max-time 10 "$admin/readyz"; }

check "a voucher while there is room" 0 request 1
same "and /readyz says ready" 200 "$(readyz)"

# Fill the filesystem to the last block.
dd if=/dev/zero of="$small/fill" bs=64k 2>/dev/null
check "the filesystem is full" 0 sh -c "[ \$(df --output=avail -k '$small' | tail -1) -lt 64 ]"
check "no voucher on a full disk" 1 request 2
check "the registrar is told to retry: 503" 0 grep -q "answered 503" err
same "/readyz is not ready" 503 "$(readyz)"
check "because the store is not writable" 0 grep -q "store not writable" ready.txt

rm -f "$small/fill"
same "room again: /readyz is ready" 200 "$(readyz)"
check "and the voucher is issued" 0 request 2
check "its audit entry is there" 0 sh -c \
  "[ \$(sqlite3 '$small/assets.db' \"SELECT count(*) FROM audit_entry WHERE serial = 'WG-F1-00000002'\") -eq 1 ]"
kill -TERM "$masa_pid"; wait "$masa_pid"; masa_pid=
finish
