#!/usr/bin/env bash
# The MASA behind haproxy speaking the PROXY protocol (send-proxy-v2, from
# 127.0.0.2, which the MASA trusts for it): a registrar's request through
# haproxy is logged and limited under the registrar's own address (curl
# binds 127.0.0.5), not haproxy's; a connection from 127.0.0.2 without a
# header is cut; other clients connect directly as before. haproxy's header
# is the proof: we did not write it. Loopback only; haproxy and the MASA
# are stopped at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
command -v haproxy >/dev/null || { echo "FAIL: haproxy is not installed (scripts/setup)"; exit 1; }

make_manufacturer 1
make_owner
check "masa init" 0 "$vs" masa init
sed -i 's/^proxy_protocol_from = .*/proxy_protocol_from = ["127.0.0.2"]/' home/masa.toml
check "masa.toml trusts 127.0.0.2 for PROXY headers" 0 grep -q '^proxy_protocol_from = \["127.0.0.2"\]' home/masa.toml
serve masa.log
[ -n "${port:-}" ] || { echo "FAIL: the MASA did not start"; cat masa.log; exit 1; }
haproxy_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > haproxy.cfg <<CFG
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend masa
    bind 127.0.0.1:$haproxy_port
    default_backend masas
backend masas
    source 127.0.0.2
    server masa-1 127.0.0.1:$port send-proxy-v2
CFG
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
haproxy_pid=$!
trap 'kill $haproxy_pid $masa_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$haproxy_port") 2>/dev/null && break
  sleep 0.1
done

# A body that is no voucher-request: 400, and a line in the refusal log.
post() {  # post SOURCE PORT: the HTTP status, or 000 when the connection failed
  curl -sk --max-time 10 --interface "$1" --cert registrar.pem --key registrar-plain.key \
    -H 'Content-Type: application/voucher-cms+json' --data-binary 'not a voucher-request' \
    -o /dev/null -w '%{http_code}' "https://127.0.0.1:$2/.well-known/brski/requestvoucher"
}
same "through haproxy, the MASA answers the registrar" 400 "$(post 127.0.0.5 "$haproxy_port")"
sleep 0.2
check "and logs the registrar's address, not haproxy's" 0 grep -q '"remote":"127.0.0.5:[0-9]*".*"status":400' masa.log
check "haproxy's address is not in the log" 1 grep -q '"remote":"127.0.0.2:' masa.log
same "a connection from 127.0.0.2 without a header is cut" 000 "$(post 127.0.0.2 "$port")"
sleep 0.2
check "and logged as a bad PROXY header" 0 grep -q '"error":"proxy_header"' masa.log
same "a registrar connecting directly is served as before" 400 "$(post 127.0.0.6 "$port")"
sleep 0.2
check "under its own address" 0 grep -q '"remote":"127.0.0.6:[0-9]*".*"status":400' masa.log
finish
