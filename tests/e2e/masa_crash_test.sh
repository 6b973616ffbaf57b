#!/usr/bin/env bash
# Crash safety (RFC 8995 §5.8; issue 4): the MASA killed with SIGKILL in the
# middle of a load of voucher requests, then restarted on the same home.
# Every voucher a client received must have its audit-log entry, matched by
# (device serial, nonce), and the store must still serve. Loopback only;
# bounded: at most 4 x 50 requests, and the MASA is killed at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
started=$SECONDS
loops=4 per_loop=50

# --- the manufacturer and four devices, one per load loop; the owner's registrar
make_manufacturer $(seq 1 $loops)
make_owner

# --- the MASA; the four loops share one client certificate, so the rate
# limit is lifted: this test is about durability, not throttling.
check "masa init" 0 "$vs" masa init
sed -i -e 's/^rate_per_second = .*/rate_per_second = 100000/' -e 's/^rate_burst = .*/rate_burst = 100000/' \
  home/masa.toml
serve masa1.log
masa_ca=home/masa/masa-ca.pem

request() {  # request DEVICE OUT
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$1.pem --pledge-key dev$1.key --form cms --out "$2"
}

# --- the load: each loop records "request exit" once the client is done, so
# a line "k 0" means the client held voucher k when the MASA died or after.
mkdir -p vouchers results
load() {  # load DEVICE
  local n=$1 k
  for k in $(seq 1 $per_loop); do
    [ -e stop ] && break
    request "$n" "vouchers/$n-$k.cms" 2>>"results/$n.err"
    echo "$k $?" >> "results/$n.txt"
  done
}
for n in $(seq 1 $loops); do load "$n" & loaders+=($!); done

# Kill once some vouchers are out, while the loops are still sending.
received() { cat results/*.txt 2>/dev/null | awk '$2 == 0' | wc -l; }
for _ in $(seq 1 300); do [ "$(received)" -ge 40 ] && break; sleep 0.1; done
before_kill=$(received)
kill -9 "$masa_pid"; wait "$masa_pid" 2>/dev/null
killed_pid=$masa_pid masa_pid=
sleep 0.5  # let the requests in flight at the kill fail against the dead port
touch stop
wait "${loaders[@]}"
check "the MASA was killed under load (>= 40 vouchers received first)" 0 test "$before_kill" -ge 40
check "the loops were still sending when it died (requests failed after)" 0 sh -c "cat results/*.txt | awk '\$2 != 0' | grep -q ."
echo "killed MASA $killed_pid after $before_kill vouchers; $(received) received in all"

# --- restart on the same home: the store opens and serves
serve masa2.log
check "the restarted MASA is ready" 0 curl -sf -o readyz.txt http://127.0.0.1:$admin_port/readyz
check "the restarted MASA serves a new voucher" 0 request 1 after.cms
check "which openssl cms -verify accepts" 0 \
  openssl cms -verify -binary -inform DER -in after.cms -CAfile "$masa_ca" -purpose any -out after.json

# --- every voucher a client received: verify it and take (serial, nonce)
: > received.tsv
for n in $(seq 1 $loops); do
  while read -r k rc; do
    [ "$rc" -eq 0 ] || continue
    if openssl cms -verify -binary -inform DER -in "vouchers/$n-$k.cms" -CAfile "$masa_ca" \
         -purpose any -out "vouchers/$n-$k.json" 2>/dev/null; then
      $py -c 'import json,sys; v=json.load(open(sys.argv[1]))["ietf-voucher:voucher"]; print(v["serial-number"] + "\t" + v["nonce"])' \
        "vouchers/$n-$k.json" >> received.tsv
    else
      echo "unverifiable vouchers/$n-$k.cms" >> received.tsv
    fi
  done < "results/$n.txt"
done
received_count=$(received)
check "every received voucher verifies against the MASA anchor" 1 grep -q unverifiable received.tsv
same "one (serial, nonce) per received voucher" "$received_count" "$(wc -l < received.tsv)"

# The audit log through our CLI, per device: requestauditlog truncates
# nonced duplicates of one domain to the latest (RFC 8995 §5.8.1), so it
# shows the count of entries, not every nonce. Entries shown plus those
# truncated must cover every voucher that device's client received.
for n in $(seq 1 $loops); do
  check "the audit log of device $n after the crash" 0 "$vs" registrar request-audit-log \
    --masa-url "$url" --masa-ca "$masa_ca" --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev$n.pem --pledge-key dev$n.key
  logged=$($py -c 'import json,sys; log=json.load(open(sys.argv[1])); print(sum(1 + e.get("truncated", 0) for e in log["events"]))' "$work/out")
  got=$(awk -v s="WG-F1-0000000$n" '$1 == s' received.tsv | wc -l)
  [ "$n" -eq 1 ] && got=$((got + 1))  # and the voucher after the restart
  check "device $n: logged entries ($logged) >= vouchers received ($got)" 0 test "$logged" -ge "$got"
done

# Every nonce, one by one: the full log is only in the store, so read it
# there (SQLite in the home; read-only, beside the running MASA).
db=$(find home -name '*.db' -o -name '*.sqlite' | head -1)
check "the SQLite store is in the home" 0 test -n "$db"
check "the store passes its integrity check" 0 sh -c "sqlite3 -readonly '$db' 'PRAGMA integrity_check' | grep -qx ok"
sqlite3 -readonly -separator "$(printf '\t')" "$db" 'SELECT serial, nonce FROM audit_entry WHERE nonce IS NOT NULL' \
  | sort -u > logged.tsv
missing=$(grep -v unverifiable received.tsv | sort -u | comm -23 - logged.tsv)
same "every received voucher has its audit-log entry (serial, nonce)" "" "$missing"
echo "$(wc -l < received.tsv) received vouchers matched against $(wc -l < logged.tsv) logged entries"

kill -TERM $masa_pid; wait $masa_pid; masa_pid=
echo "took $((SECONDS - started)) s"
finish
