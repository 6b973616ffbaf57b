#!/usr/bin/env bash
# Configuration as an operator meets it: files written by init read back
# even when the home's path needs escaping; a misspelled key, a value of the
# wrong type or out of range, in masa.toml, vouchsafe.toml, the environment
# or a flag, stops the command with exit 2, the file, line and key named,
# and the MASA never starts.
set -uo pipefail

vs=${VOUCHSAFE_BIN:?set by ctest}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

cd "$work" || exit 2
home="$work/home \"quoted\" back\\slash"
export VOUCHSAFE_HOME=$home
export VOUCHSAFE_CA_PASSPHRASE=ca-test-passphrase
export VOUCHSAFE_MASA_PASSPHRASE=masa-test-passphrase
umask 022

# --- init writes what load reads, whatever the path
check "pki init in a home whose path has a quote and a backslash" 0 "$vs" pki init
check "masa init there" 0 "$vs" masa init
check "masa.toml holds the path escaped" 0 grep -qF 'home = "'"$work"'/home \"quoted\" back\\slash"' "$home/masa.toml"
same "masa/ is 0700" 700 "$(stat -c %a "$home/masa")"

serve_ok() {  # serve_ok NAME CONFIG: the MASA starts on it and stops on SIGTERM
  rm -f ready
  "$vs" masa serve --config "$2" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file ready \
    >serve.log 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do [ -s ready ] && break; sleep 0.1; done
  if [ -s ready ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1"; sed 's/^/  | /' serve.log | head -5
  fi
  kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null
}
serve_ok "masa serve reads what masa init wrote" "$home/masa.toml"

# The MASA must refuse to start: exit 2 at once, never listening.
refused() {  # refused NAME CONFIG MESSAGE [env...]
  local name=$1 config=$2 message=$3; shift 3
  rm -f ready
  check "$name: exit 2" 2 env "$@" timeout 20 "$vs" masa serve --config "$config" \
    --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file ready
  check "$name: the message names it" 0 grep -qF -- "$message" err
  check "$name: it did not start" 1 test -e ready
}

edit() {  # edit OUT SED-EXPRESSION: masa.toml edited
  sed -e "$2" "$home/masa.toml" > "$1"
}
line_of() { grep -n -- "$2" "$1" | head -1 | cut -d: -f1; }

edit typo.toml 's/^default_ownership = .*/default_ownrship = "known-customer"/'
refused "a misspelled key" typo.toml \
  "typo.toml:$(line_of typo.toml default_ownrship): [policy] default_ownrship: unknown key; did you mean default_ownership?"
edit type.toml 's/^max_body_bytes = .*/max_body_bytes = "1000"/'
refused "a string for an integer" type.toml \
  "type.toml:$(line_of type.toml max_body_bytes): [limits] max_body_bytes: expected an integer from 1024 to 16777216, got a string, \"1000\""
edit body.toml 's/^max_body_bytes = .*/max_body_bytes = -1/'
refused "a negative body limit" body.toml "[limits] max_body_bytes: expected an integer from 1024 to 16777216, got -1"
edit threads.toml 's/^threads = .*/threads = -1/'
refused "threads = -1" threads.toml "[limits] threads: expected an integer from 0 to 1024, got -1"
edit conn.toml 's/^max_connections = .*/max_connections = 0/'
refused "max_connections = 0" conn.toml "[limits] max_connections: expected an integer from 1 to 1000000, got 0"
edit days.toml 's/^max_nonceless_lifetime = .*/max_nonceless_lifetime = "30"/'
refused "a duration without its unit" days.toml "[policy] max_nonceless_lifetime: expected a duration from 1m to 366d"
refused "a bad VOUCHSAFE_MASA_LISTEN" "$home/masa.toml" "VOUCHSAFE_MASA_LISTEN: expected HOST:PORT" \
  VOUCHSAFE_MASA_LISTEN=localhost:8443
check "a bad --listen: exit 2" 2 timeout 20 "$vs" masa serve --listen 127.0.0.1:99999
check "a bad --listen: the message names the flag" 0 grep -qF -- "--listen: expected HOST:PORT" err

# Files written before the schema keep working: the old integer keys.
edit old.toml 's/^max_nonceless_lifetime = .*/max_nonceless_days = 30/; s/^read_timeout = .*/read_timeout_ms = 10000/'
serve_ok "masa serve reads max_nonceless_days and read_timeout_ms" old.toml
edit both.toml 's/^read_timeout = .*/read_timeout = "10s"\nread_timeout_ms = 10000/'
refused "an old key beside its replacement" both.toml "[limits] read_timeout_ms: replaced by read_timeout"

# --- vouchsafe.toml: every command reading it stops on a bad key
cp "$home/vouchsafe.toml" good.toml
sed -i 's/^serial_prefix = .*/serial_prefx = "WG"/' "$home/vouchsafe.toml"
check "a misspelled product key stops issuing-ca create" 2 "$vs" pki issuing-ca create --name f1 --product widget
check "and names file, line and key" 0 grep -qF \
  "vouchsafe.toml:$(line_of "$home/vouchsafe.toml" serial_prefx): [products.widget] serial_prefx: unknown key; did you mean serial_prefix?" err
cp good.toml "$home/vouchsafe.toml"
check "pki init refuses an --organization the file could not hold" 2 \
  "$vs" pki init --home other --organization "$(printf 'x%.0s' $(seq 1 65))"
check "and names the flag" 0 grep -qF -- "--organization: expected a string of 1 to 64 characters" err
check "issuing-ca create refuses a negative --max-certificates" 2 \
  "$vs" pki issuing-ca create --name f2 --product widget --max-certificates -5
check "issuing-ca create works on the restored file" 0 "$vs" pki issuing-ca create --name f1 --product widget
finish
