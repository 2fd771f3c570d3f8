#!/usr/bin/env bash
# The command line's help, errors and exit codes from two seer binaries, for every subcommand:
# prints the differences and exits 1 if there are any (`--version` names the commit, so it is
# compared without it). Usage: scripts/compare-cli-behaviour.sh BEFORE_SEER AFTER_SEER
set -u
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
OUT=$(mktemp -d)
subs="run sweep merge replay shrink list check explain query view export new mcp serve-kv serve-sql"
cases=("" "--help" "-h" "--help-all" "bogus" "--bogus" "--help check" "--help-all check"
  "check run" "list --help-all")
for s in $subs; do
  cases+=("$s --help" "$s -h" "$s --help-all" "$s --bogus" "$s --version" "$s --help --bogus"
    "$s --bogus --help" "$s --json --bogus")
  # Not for the servers, which would serve (each binary runs in its own directory, for `new`).
  case $s in serve-*) continue ;; esac
  cases+=("$s run" "$s run check" "$s a b c d e" "$s --system")
done
status=0
n=0
for c in "${cases[@]}"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  (mkdir -p "$OUT/b" && cd "$OUT/b" && timeout 10 "$BEFORE" $c </dev/null >../b.out 2>../b.err
    echo "exit $?" >>../b.err)
  # shellcheck disable=SC2086
  (mkdir -p "$OUT/a" && cd "$OUT/a" && timeout 10 "$AFTER" $c </dev/null >../a.out 2>../a.err
    echo "exit $?" >>../a.err)
  if ! cmp -s "$OUT/b.out" "$OUT/a.out" || ! cmp -s "$OUT/b.err" "$OUT/a.err"; then
    echo "differs: seer $c"
    diff "$OUT/b.out" "$OUT/a.out" | head -4
    diff "$OUT/b.err" "$OUT/a.err" | head -4
    status=1
  fi
done
v1=$("$BEFORE" --version | sed 's/ (commit.*//')
v2=$("$AFTER" --version | sed 's/ (commit.*//')
[ "$v1" = "$v2" ] || { echo "differs: --version: $v1 / $v2"; status=1; }
echo "$n command lines compared: $([ $status = 0 ] && echo identical || echo DIFFERENT)"
rm -rf "$OUT"
exit $status
