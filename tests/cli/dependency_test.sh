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
"$own" sweep demo-counter --variant naive --seeds 1..200 >"$tmp/naive.txt"
[ $? -eq 1 ] || fail "the naive variant should be caught"
grep -q '^reproduce: demo-counter run demo-counter --variant naive --seed [0-9]' "$tmp/naive.txt" ||
  fail "the reproduce line names the user's program: $(grep reproduce "$tmp/naive.txt")"
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
# The trace names the user's own lines, relative to the project (seer_add_simulation's prefix map),
# and explain shows them.
grep -q '"at":"design/demo-counter.cpp:[0-9]' "$tmp/demo/t.jsonl" ||
  fail "the trace names no line of design/demo-counter.cpp"
"$own" explain "$tmp/demo/t.jsonl" | grep -q ' at design/demo-counter.cpp:[0-9]' ||
  fail "explain shows no line of design/demo-counter.cpp"
ctest --test-dir "$tmp/demo/build" >"$tmp/ctest.log" 2>&1 || { cat "$tmp/ctest.log"; fail "the scaffold's tests"; }
# The user's program gets the allocator seer's own does (seerHelpers.cmake): mimalloc where installed.
if readelf -d "$seer" | grep -q 'NEEDED.*libmimalloc'; then
  readelf -d "$own" | grep -q 'NEEDED.*libmimalloc' || fail "the user's seer does not link mimalloc"
fi

# The built-in systems only when asked for: a second program of the project with BUILTIN_SYSTEMS.
echo '// The built-in systems come from seer_add_simulation(... BUILTIN_SYSTEMS).' >"$tmp/demo/builtins.cpp"
echo 'seer_add_simulation(with-builtins SOURCES builtins.cpp design/demo-counter.cpp BUILTIN_SYSTEMS)' \
  >>"$tmp/demo/CMakeLists.txt"
cmake --build "$tmp/demo/build" --target with-builtins >"$tmp/build-builtins.log" 2>&1 ||
  { cat "$tmp/build-builtins.log"; fail "build a program with BUILTIN_SYSTEMS"; finish; }
"$tmp/demo/build/with-builtins" list --json | python3 -c '
import json, sys
names = [s["name"] for s in json.load(sys.stdin)["systems"]]
assert "demo-counter" in names and "promises" in names and "register" in names, names' ||
  fail "BUILTIN_SYSTEMS adds the built-in systems beside the user's"
"$tmp/demo/build/with-builtins" sweep promises --variant final --seeds 1..5 >/dev/null ||
  fail "the installed promises system runs"
"$tmp/demo/build/with-builtins" sweep promises --variant naive --seeds 1..200 >/dev/null
[ $? -eq 1 ] || fail "the installed promises system catches its naive variant"

# The Debian package: built by CPack, extracted into a temporary root (no dpkg -i here), and a
# project built against it alone.
(cd "$tmp" && cpack --config "$build_dir/CPackConfig.cmake" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log"; fail "cpack"; finish; }
deb=$(ls "$tmp"/seer_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { fail "no .deb built"; finish; }
dpkg-deb -f "$deb" Depends | grep -q libsqlite3 || fail "the .deb does not depend on SQLite"
if readelf -d "$seer" | grep -q 'NEEDED.*libmimalloc'; then
  dpkg-deb -f "$deb" Depends | grep -q libmimalloc || fail "the .deb does not depend on mimalloc"
fi
dpkg-deb -x "$deb" "$tmp/root" || fail "dpkg-deb -x"
"$tmp/root/usr/bin/seer" new from-deb "$tmp/from-deb" >/dev/null || fail "seer new from the .deb"
cmake -S "$tmp/from-deb" -B "$tmp/from-deb/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/root/usr" \
  -DCMAKE_CXX_COMPILER="$cxx" >"$tmp/configure2.log" 2>&1 &&
  cmake --build "$tmp/from-deb/build" >"$tmp/build2.log" 2>&1 ||
  { cat "$tmp/configure2.log" "$tmp/build2.log"; fail "build against the .deb's files"; }
"$tmp/from-deb/build/from-deb" sweep from-deb --variant dedupe --seeds 1..50 >/dev/null ||
  fail "the project built from the .deb runs"
finish
