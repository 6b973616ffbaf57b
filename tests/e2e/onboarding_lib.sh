# Shared by the onboarding e2e scripts: a manufacturer with its MASA (from
# masa_lib.sh) and an owner's registrar, both on loopback, stopped on exit.
# Source after lib.sh and masa_lib.sh.

reg_pid=
trap '[ -n "$masa_pid" ] && kill -9 $masa_pid 2>/dev/null; [ -n "$reg_pid" ] && kill -9 $reg_pid 2>/dev/null; rm -rf "$work"' EXIT

masa_ca=home/masa/masa-ca.pem

start_masa() {  # the MASA on 127.0.0.1, any port; sets masa_pid, port, url
  "$vs" masa init >/dev/null
  serve masa.log
}

# start_registrar HOME [init flags]: registrar init (trusting this
# manufacturer's root and issuing CA, the MASA's TLS CA, every request to
# our MASA), then serve; sets reg_pid, reg_port, reg_admin, registrar.
start_registrar() {
  local home=$1; shift
  "$vs" registrar init --home "$home" --organization "Owner $home" \
    --manufacturer-anchor home/certs/root-ca.pem --manufacturer-anchor home/certs/issuing-f1.pem \
    --masa-ca "$masa_ca" --masa-url "$url" "$@" >/dev/null || return 1
  rm -f "$home.ready"
  "$vs" registrar serve --home "$home" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    --ready-file "$home.ready" >"$home.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 1 100); do [ -s "$home.ready" ] && break; sleep 0.1; done
  read -r reg_port reg_admin < "$home.ready"
  registrar=127.0.0.1:$reg_port
}

stop_registrar() {
  kill -TERM "$reg_pid" && wait "$reg_pid"
  reg_pid=
}

pledge() {  # pledge N OUT [flags]: bootstrap device N (key file) through $registrar
  local n=$1 out=$2; shift 2
  "$vs" pledge bootstrap --registrar "$registrar" --idevid dev$n.pem --key dev$n.key \
    --masa-anchor "$masa_ca" --out "$out" "$@"
}

stop_masa() {
  kill -TERM "$masa_pid" && wait "$masa_pid"
  masa_pid=
}
