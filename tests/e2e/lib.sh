# Shared by the e2e scripts: a scratch directory and pass/fail counting.
# Source it; it sets $work (removed on exit) and defines check, same, finish.

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 expected=$2; shift 2
  # The output lands in out/err once the command is done, so that a check
  # may grep the previous command's output.
  "$@" >"$work/cur.out" 2>"$work/cur.err"
  local got=$?
  mv "$work/cur.out" "$work/out"; mv "$work/cur.err" "$work/err"
  if [ "$got" -eq "$expected" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name (exit $got, expected $expected)"; sed 's/^/  | /' "$work/err" | head -5
  fi
}

same() {  # same NAME A B
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL: $1 ('$2' != '$3')"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
