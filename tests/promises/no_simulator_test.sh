#!/usr/bin/env bash
# Production does not link the simulator: seer-resonate's symbols name no part of it (the
# Simulator, the simulated services, the systems registry). Usage: no_simulator_test.sh BINARY
set -euo pipefail
binary="$1"
symbols="$(nm -C "$binary")"
# The check means something only if nm sees the server at all.
if ! grep -q 'seer::promises::design::run_server' <<<"$symbols"; then
  echo "no_simulator_test: nm shows no seer::promises::design::run_server in $binary" >&2
  exit 1
fi
found="$(grep -E 'seer::sim::(Simulator|SystemRegistry|run_system)|seer::services::add_[a-z_]+_service' \
  <<<"$symbols" || true)"
if [[ -n "$found" ]]; then
  echo "seer-resonate links simulation code:" >&2
  head -n 10 <<<"$found" >&2
  exit 1
fi
echo "seer-resonate: no simulator symbol"
