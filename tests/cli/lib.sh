# Shared by the CLI test scripts: `source` it after setting `seer` (the binary under test).
# Gives $tmp (removed on exit), fail, expect_error CODE ARGS... and finish (the exit status).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The command exits with CODE and prints exactly one error line, prefixed "seer: error: ".
expect_error() {
  local code=$1; shift
  "$seer" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$code" ] || fail "seer $*: exit $got, expected $code"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "seer $*: expected one error line, got: $(cat "$tmp/err")"
  grep -q '^seer: error: ' "$tmp/err" || fail "seer $*: error line lacks prefix: $(cat "$tmp/err")"
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
  fi
  echo "ok"
}
