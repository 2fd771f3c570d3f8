#!/usr/bin/env bash
# docs/tutorial.md, run as written: install this build into a temporary prefix (the tutorial's
# /opt/seer), copy examples/ beside it, and run every command of the tutorial's console blocks in
# order (tutorial_test.py): the example builds against the installed package alone, the broken
# variant's sweep finds violations (exit 1), shrink and explain say what the tutorial quotes, the
# fixed variant holds, and the pinned regression run file still reproduces.
set -u
build_dir="$1"
cxx="$2"
source_dir="$3"
source "$(dirname "$0")/lib.sh"
prefix="$tmp/prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install"; finish; }
mkdir -p "$tmp/work" && cp -r "$source_dir/examples" "$tmp/work/examples"
# The tutorial's cmake lines name neither generator nor compiler: take this build's.
CMAKE_GENERATOR=Ninja CXX="$cxx" python3 "$(dirname "$0")/tutorial_test.py" \
  "$source_dir/docs/tutorial.md" "$tmp/work" "$prefix" || fail "docs/tutorial.md"
finish
