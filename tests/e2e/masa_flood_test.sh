#!/usr/bin/env bash
# Connection exhaustion (issue 9, item 1): a bounded flood of idle TCP
# connections that never start TLS, from many loopback source addresses and
# reopened as the MASA closes them, against a MASA holding 256 connections,
# while a real registrar keeps asking for vouchers. Every voucher request
# must succeed, and the admin metrics must show the flood being pushed out
# and refused. Loopback only; bounded: the flood stops by itself after
# $flood_seconds, and the MASA is killed at exit.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
py=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/masa_lib.sh
. "$(dirname "$0")/masa_lib.sh"
started=$SECONDS
flood_seconds=10

make_manufacturer 1
make_owner

# --- a MASA with 256 places (128 for connections in their TLS handshake):
# the flood below wants far more.
check "masa init" 0 "$vs" masa init
sed -i -e 's/^max_connections = .*/max_connections = 256/' home/masa.toml
check "the MASA holds 256 connections" 0 grep -q '^max_connections = 256$' home/masa.toml
serve masa.log
masa_ca=home/masa/masa-ca.pem
metric() {  # metric REASON: vouchsafe_http_rejected_total{reason=REASON}, 0 when absent
  curl -s "http://127.0.0.1:$admin_port/metrics" |
    awk -v r="vouchsafe_http_rejected_total{reason=\"$1\"}" '$1 == r { print $2; found = 1 } END { if (!found) print 0 }'
}

# --- the flood: 6 prefixes x 4 addresses x 16 idle connections, 384 in all,
# none over the per-address or per-prefix caps (the unit tests check those).
# Each connection the MASA closes is reopened half a second later. Prints
# its counts as JSON when the time is up.
cat > flood.py <<'PY'
import json, resource, selectors, socket, sys, time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
sources = [(f"127.1.{p}.{a}", 16) for p in range(6) for a in range(1, 5)]
wanted = sum(n for _, n in sources) + 64
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < wanted:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
REOPEN_PAUSE = 0.5
selector = selectors.DefaultSelector()
counts = {"connected": 0, "closed_by_server": 0, "failed": 0}
reopen = []  # (when, source)

def open_from(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    s.bind((source, 0))
    s.connect_ex(("127.0.0.1", port))
    selector.register(s, selectors.EVENT_WRITE, ("connecting", source))

def later(source):
    reopen.append((time.monotonic() + REOPEN_PAUSE, source))

for source, n in sources:
    for _ in range(n):
        open_from(source)
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    for key, _ in selector.select(timeout=0.05):
        s, (state, source) = key.fileobj, key.data
        selector.unregister(s)
        if state == "connecting":
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                counts["failed"] += 1
                s.close()
                later(source)
                continue
            counts["connected"] += 1
            selector.register(s, selectors.EVENT_READ, ("open", source))
            continue
        try:
            data = s.recv(64)
        except OSError:
            data = b""
        if data:  # the MASA never speaks first; keep waiting for its close
            selector.register(s, selectors.EVENT_READ, ("open", source))
            continue
        counts["closed_by_server"] += 1
        s.close()
        later(source)
    now = time.monotonic()
    due = [source for when, source in reopen if when <= now]
    reopen = [(when, source) for when, source in reopen if when > now]
    for source in due:
        open_from(source)
for key in list(selector.get_map().values()):
    key.fileobj.close()
print(json.dumps(counts))
PY
$py flood.py "$port" "$flood_seconds" > flood.json 2> flood.err &
flood_pid=$!

# --- meanwhile, the registrar: voucher after voucher, each verified
# against the MASA's anchor, until the flood is over.
sleep 1  # let the flood fill the MASA first
: > results.txt
k=0
while kill -0 "$flood_pid" 2>/dev/null; do
  k=$((k + 1))
  "$vs" registrar request-voucher --masa-url "$url" --masa-ca "$masa_ca" \
    --registrar-cert registrar.pem --registrar-key registrar.key \
    --pledge-cert dev1.pem --pledge-key dev1.key --form cms --verify-anchor "$masa_ca" \
    --out "v$k.cms" 2>> registrar.err
  echo "$k $?" >> results.txt
done
wait "$flood_pid"
check "the flood ran to its end" 0 test -s flood.json
echo "flood: $(cat flood.json); registrar: $(awk '$2 == 0' results.txt | wc -l) of $(wc -l < results.txt) vouchers"

# --- every voucher request succeeded, and there were a few
same "every voucher request during the flood succeeded" "" "$(awk '$2 != 0' results.txt)"
check "the registrar got at least 5 vouchers during the flood" 0 test "$(wc -l < results.txt)" -ge 5
check "each voucher verifies with openssl too" 0 \
  openssl cms -verify -binary -inform DER -in v1.cms -CAfile "$masa_ca" -purpose any -out v1.json

# --- and the flood was there: its connections pushed out of their
# handshakes to make room, as the metrics and the log say
flood_closed=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["closed_by_server"])' flood.json)
check "the MASA closed flood connections ($flood_closed)" 0 test "$flood_closed" -gt 100
evicted=$(metric handshake_evicted)
check "handshakes were pushed out ($evicted)" 0 test "$evicted" -gt 100
check "the log says so, as JSON lines" 0 grep -q '"error":"handshake_evicted"' masa.log
check "the MASA is still healthy" 0 curl -sf "http://127.0.0.1:$admin_port/healthz"

kill -TERM $masa_pid; wait $masa_pid; masa_pid=
echo "took $((SECONDS - started)) s"
finish
