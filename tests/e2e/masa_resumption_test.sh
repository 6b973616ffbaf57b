#!/usr/bin/env bash
# Two MASA instances on one asset store share their session-ticket keys: a
# registrar that got a ticket from one resumes its TLS session on the other
# (openssl s_client, not our code), and the resumption is counted. The
# store holds the key only sealed under the MASA passphrase. Loopback
# only; both MASAs are stopped at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"

make_manufacturer
make_owner
check "masa init" 0 "$vs" masa init
masa_ca=home/masa/masa-ca.pem
serve a.log
a_port=$port a_pid=$masa_pid
serve b.log
b_port=$port b_admin=$admin_port b_pid=$masa_pid
trap 'kill -9 $a_pid $b_pid 2>/dev/null; rm -rf "$work"' EXIT

s_client() {  # s_client PORT [openssl flags]: one request, answered 404 (not a BRSKI path)
  local p=$1; shift
  printf 'GET /healthz HTTP/1.1\r\nHost: masa\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect 127.0.0.1:$p -CAfile "$masa_ca" \
      -cert registrar-ee.pem -key registrar-plain.key -ign_eof "$@" 2>&1
}
s_client "$a_port" -sess_out session.pem > a.out
check "a full handshake with instance A, keeping its session" 0 grep -q 'New, TLSv1.3' a.out
s_client "$b_port" -sess_in session.pem > b.out
check "the session resumes on instance B" 0 grep -q 'Reused, TLSv1.3' b.out
check "and B answered the request on it" 0 grep -q 'HTTP/1.1 404' b.out
check "B counts one resumed handshake" 0 sh -c \
  "curl -s http://127.0.0.1:$b_admin/metrics | grep -q 'vouchsafe_tls_handshakes_total{kind=\"resumed\"} 1'"
kill -TERM "$a_pid" "$b_pid"; wait "$a_pid" "$b_pid"
# The key's row: 128 bytes sealed (format 1, scrypt, salt, nonce, tag), not
# the 80 of a key in the clear, and the instances said nothing of it.
same "the store's session-ticket key is sealed" "1 128" \
  "$(sqlite3 home/assets.db 'SELECT count(*), length(material) FROM tls_ticket_key' | tr '|' ' ')"
check "no instance stored or refused a key in the clear" 1 grep -q "session-ticket key" a.log b.log
finish
