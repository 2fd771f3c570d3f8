#!/usr/bin/env bash
# seer as a dependency (docs/dependency.md): install this build into a temporary prefix, scaffold a
# project with the installed `seer new`, build it against the installed package only, and run it:
# its own seer lists only its system, finds the naive variant's bug, holds the fixed one, explains
# a shrunk failure, and its own ctest passes. Bad names and non-empty directories are refused.
set -u
build_dir="$1"
cxx="$2"
source "$(dirname "$0")/lib.sh"
prefix="$tmp/prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install"; finish; }
seer="$prefix/bin/seer"
[ -f "$prefix/lib/cmake/seer/seerConfig.cmake" ] || fail "no seerConfig.cmake installed"
[ -f "$prefix/include/seer/cli/main.hpp" ] || fail "public headers not installed"

expect_error 2 new "Bad Name" "$tmp/x"
mkdir -p "$tmp/full" && touch "$tmp/full/file"
expect_error 2 new demo "$tmp/full"

"$seer" new demo-counter "$tmp/demo" >/dev/null || fail "seer new"
cmake -S "$tmp/demo" -B "$tmp/demo/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure the scaffold against the installed package"; finish; }
cmake --build "$tmp/demo/build" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; fail "build the scaffold"; finish; }
own="$tmp/demo/build/demo-counter"
"$own" list --json | python3 -c '
import json, sys
names = [s["name"] for s in json.load(sys.stdin)["systems"]]
assert names == ["demo-counter"], names' || fail "the user's seer lists only its own system"
"$own" sweep demo-counter --variant naive --seeds 1..200 >/dev/null
[ $? -eq 1 ] || fail "the naive variant should be caught"
"$own" sweep demo-counter --variant dedupe --seeds 1..200 >/dev/null || fail "dedupe should hold"
(cd "$tmp/demo" && "$own" shrink demo-counter --variant naive --seed 1 -o run.json \
  --trace t.jsonl >/dev/null)
[ $? -eq 1 ] || fail "shrink reproduces the violation (exit 1)"
"$own" explain "$tmp/demo/t.jsonl" --json | python3 -c '
import json, sys
x = json.load(sys.stdin)
assert x["causes"], "no cause"
assert x["causes"][0]["kind"] in ("duplicate_delivery", "lost_response"), x["causes"][0]["kind"]' ||
  fail "explain names the retried or duplicated increment"
ctest --test-dir "$tmp/demo/build" >"$tmp/ctest.log" 2>&1 || { cat "$tmp/ctest.log"; fail "the scaffold's tests"; }
finish
