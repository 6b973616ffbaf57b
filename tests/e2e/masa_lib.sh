# Shared by the MASA e2e scripts: a manufacturer, owners' registrars and a
# MASA on loopback. Source after lib.sh; everything happens in $work.

cd "$work" || exit 2
export VOUCHSAFE_HOME=$work/home
export VOUCHSAFE_CA_PASSPHRASE=ca-test-passphrase
export VOUCHSAFE_MASA_PASSPHRASE=masa-test-passphrase
export VOUCHSAFE_PLEDGE_PASSPHRASE=pledge-test-passphrase
export VOUCHSAFE_REGISTRAR_PASSPHRASE=registrar-test-passphrase

masa_pid=
trap '[ -n "$masa_pid" ] && kill -9 $masa_pid 2>/dev/null; rm -rf "$work"' EXIT

device_csr() {  # device_csr N: an encrypted key, its plain copy for curl, a CSR for WG-F1-0000000N
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc \
    -pass env:VOUCHSAFE_PLEDGE_PASSPHRASE -out dev$1.key
  openssl req -new -key dev$1.key -passin env:VOUCHSAFE_PLEDGE_PASSPHRASE \
    -subj "/serialNumber=WG-F1-0000000$1" -out dev$1.csr
  openssl pkey -in dev$1.key -passin env:VOUCHSAFE_PLEDGE_PASSPHRASE -out dev$1-plain.key
}

make_manufacturer() {  # make_manufacturer N...: PKI, issuing CA f1, devices N... with IDevIDs devN.pem
  "$vs" pki init --organization "Test Devices" --masa-url 127.0.0.1 >/dev/null
  "$vs" pki issuing-ca create --name f1 --product widget >/dev/null
  local n
  for n in "$@"; do
    device_csr "$n"
    "$vs" idevid issue --csr dev$n.csr --serial WG-F1-0000000$n --cert-out dev$n.pem 2>/dev/null
  done
}

domain_ca() {  # domain_ca NAME: NAME-ca.pem and its key
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1-ca.key \
    -subj "/O=$1/CN=$1 Domain CA" -days 30 -out $1-ca.pem 2>/dev/null
}

registrar() {  # registrar NAME DOMAIN EKU SERIAL: NAME.pem (cert + CA), NAME-ee.pem, keys
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc \
    -pass env:VOUCHSAFE_REGISTRAR_PASSPHRASE -out $1.key
  openssl req -new -key $1.key -passin env:VOUCHSAFE_REGISTRAR_PASSPHRASE \
    -subj "/O=$2/CN=$1.$2.example" -out $1.csr
  openssl x509 -req -in $1.csr -CA $2-ca.pem -CAkey $2-ca.key -days 30 -set_serial $4 \
    -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\n' "$3") \
    -out $1-ee.pem 2>/dev/null
  cat $1-ee.pem $2-ca.pem > $1.pem
  openssl pkey -in $1.key -passin env:VOUCHSAFE_REGISTRAR_PASSPHRASE -out $1-plain.key
}

make_owner() {  # the owner's domain CA (owner-ca.pem) and registrar (registrar.pem, id-kp-cmcRA)
  domain_ca owner
  registrar registrar owner 1.3.6.1.5.5.7.3.28,clientAuth,serverAuth 11
}

serve() {  # serve LOG [flags]: start a MASA on 127.0.0.1, wait; sets masa_pid, port, admin_port, url
  local log=$1; shift
  rm -f ready
  "$vs" masa serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file ready "$@" >"$log" 2>&1 &
  masa_pid=$!
  for _ in $(seq 1 100); do [ -s ready ] && break; sleep 0.1; done
  read -r port admin_port < ready
  url=https://127.0.0.1:$port
}
