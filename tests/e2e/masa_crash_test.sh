#!/usr/bin/env bash
# Crash safety (RFC 8995 §5.8; issue 4, issue 9 item 16): the MASA killed
# with SIGKILL at random moments while eight clients send voucher requests
# at once, CRASH_KILLS times (20 by default), restarted on the same home
# each time. After every kill, every voucher a client has received (HTTP
# 200, the client exited 0) must have its audit-log entry in the store,
# matched by (device serial, nonce). Loopback only; bounded: at most
# 8 x max_requests requests and a deadline, and the MASA is killed at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
started=$SECONDS
kills=${CRASH_KILLS:-20}
clients=8 max_requests=1500 deadline=150
trap '[ -n "$masa_pid" ] && kill -9 $masa_pid 2>/dev/null; touch "$work/stop"; wait; rm -rf "$work"' EXIT

# --- the manufacturer and eight devices, one per client; the owner's registrar
make_manufacturer $(seq 1 $clients)
make_owner

# --- the MASA; the clients share one client certificate, so the rate limit
# is lifted: this test is about durability, not throttling.
check "masa init" 0 "$vs" masa init
sed -i -e 's/^rate_per_second = .*/rate_per_second = 100000/' -e 's/^rate_burst = .*/rate_burst = 100000/' \
  home/masa.toml
masa_ca=home/masa/masa-ca.pem
db=$(find home -name '*.db' -o -name '*.sqlite' | head -1)
check "the SQLite store is in the home" 0 test -n "$db"

# --- the clients: each sends to whichever MASA is up (its URL in the file
# url) and records "k exit" once its request is done, so a line "k 0" means
# the client holds voucher k.
mkdir -p vouchers results
client() {  # client DEVICE
  local n=$1 k
  for k in $(seq 1 $max_requests); do
    [ -e stop ] && break
    if "$vs" registrar request-voucher --masa-url "$(cat url 2>/dev/null)" --masa-ca "$masa_ca" \
         --registrar-cert registrar.pem --registrar-key registrar.key \
         --pledge-cert dev$n.pem --pledge-key dev$n.key --form cms \
         --out "vouchers/$n-$k.cms" 2>>"results/$n.err"; then
      echo "$k 0" >> "results/$n.txt"
    else
      echo "$k 1" >> "results/$n.txt"
      sleep 0.2  # the MASA is down: do not spin through the request cap
    fi
  done
}

received() { cat results/*.txt 2>/dev/null | awk '$2 == 0' | wc -l; }

# Every voucher received and not yet checked: verified under the MASA's
# anchor, its (serial, nonce) looked up in the store's audit log. Reads the
# SQLite file beside a dead MASA (read-only).
: > checked.txt; : > missing.txt
check_received() {  # check_received ROUND
  local n k rc file new=0
  sqlite3 -readonly -separator "$(printf '\t')" "$db" \
    'SELECT serial, nonce FROM audit_entry WHERE nonce IS NOT NULL' | sort -u > logged.tsv
  for n in $(seq 1 $clients); do
    while read -r k rc; do
      [ "$rc" -eq 0 ] || continue
      file=vouchers/$n-$k.cms
      grep -qx "$file" checked.txt && continue
      if openssl cms -verify -binary -inform DER -in "$file" -CAfile "$masa_ca" -purpose any \
           -out "$file.json" 2>/dev/null; then
        $py -c 'import json,sys; v=json.load(open(sys.argv[1]))["ietf-voucher:voucher"]; print(v["serial-number"] + "\t" + v["nonce"])' \
          "$file.json" > "$file.id"
        grep -qxF -f "$file.id" logged.tsv || echo "round $1: $file $(cat "$file.id") not in the audit log" >> missing.txt
      else
        echo "round $1: $file does not verify" >> missing.txt
      fi
      echo "$file" >> checked.txt
      new=$((new + 1))
    done < <(cat "results/$n.txt" 2>/dev/null)
  done
  echo "$new"
}

for n in $(seq 1 $clients); do client "$n" & loaders+=($!); done

# --- the kills: start the MASA, let the load run a random 0.3 to 1.5 s,
# SIGKILL it, check. A round counts as "under load" when vouchers came out
# during it.
done_kills=0 loaded_rounds=0 timed_out=0
for round in $(seq 1 "$kills"); do
  if [ $((SECONDS - started)) -ge $deadline ]; then timed_out=1; break; fi
  port=
  serve "masa$round.log"
  if [ -z "${port:-}" ] || ! kill -0 "$masa_pid" 2>/dev/null; then
    echo "round $round: the MASA did not start"; sed 's/^/  | /' "masa$round.log" | tail -5
    break
  fi
  echo "$url" > url.tmp && mv url.tmp url
  before=$(received)
  sleep "$(printf '0.%03d' $((RANDOM % 1000)))"; sleep 0.3; sleep "0.$((RANDOM % 3))"
  kill -9 "$masa_pid"; wait "$masa_pid" 2>/dev/null; masa_pid=
  done_kills=$((done_kills + 1))
  [ "$(received)" -gt "$before" ] && loaded_rounds=$((loaded_rounds + 1))
  checked=$(check_received "$round")
  echo "kill $round: $(received) vouchers received in all, $checked newly checked"
done

# --- the end: stop the clients, check what came out last, and that the
# store still serves after the last crash.
touch stop
wait "${loaders[@]}"
check_received final > /dev/null
check "no deadline hit ($deadline s)" 0 test "$timed_out" -eq 0
same "the MASA was killed CRASH_KILLS times" "$kills" "$done_kills"
check "most kills fell under load (vouchers out in the round): $loaded_rounds of $done_kills" 0 \
  test $((loaded_rounds * 2)) -ge "$done_kills"
check "requests failed at the kills (the clients were still sending)" 0 \
  sh -c "cat results/*.txt | awk '\$2 != 0' | grep -q ."
check "vouchers were received ($(received))" 0 test "$(received)" -ge "$done_kills"
same "every received voucher verifies and has its audit entry (serial, nonce)" "" "$(cat missing.txt)"
same "every received voucher was checked" "$(received)" "$(wc -l < checked.txt)"
check "the store passes its integrity check" 0 sh -c "sqlite3 -readonly '$db' 'PRAGMA integrity_check' | grep -qx ok"

serve masa-after.log
check "the MASA restarted after the last kill is ready" 0 curl -sf -o readyz.txt http://127.0.0.1:$admin_port/readyz
check "and serves a new voucher" 0 "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
  --registrar-cert registrar.pem --registrar-key registrar.key --pledge-cert dev1.pem --pledge-key dev1.key \
  --form cms --out after.cms
kill -TERM $masa_pid; wait $masa_pid; masa_pid=
echo "$done_kills kills, $(received) vouchers received and matched; took $((SECONDS - started)) s"
finish
