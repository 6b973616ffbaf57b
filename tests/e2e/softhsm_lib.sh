# Shared by the e2e scripts that keep keys on an HSM: a throw-away SoftHSM2
# configuration and token directory under $work (source after lib.sh).
# make_token LABEL initialises a token and prints its key-store URI.

softhsm_module=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$work/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
  "$work/softhsm/tokens" >"$work/softhsm/softhsm2.conf"
export SOFTHSM2_CONF=$work/softhsm/softhsm2.conf

make_token() {  # make_token LABEL: the token, its PIN in $work/softhsm/LABEL.pin; prints the URI
  softhsm2-util --init-token --free --label "$1" --pin "pin-$1" --so-pin "so-$1" >/dev/null || return 2
  printf 'pin-%s\n' "$1" >"$work/softhsm/$1.pin"
  printf 'pkcs11:token=%s?module-path=%s&pin-source=file:%s\n' "$1" "$softhsm_module" "$work/softhsm/$1.pin"
}
