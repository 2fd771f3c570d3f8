#!/usr/bin/env bash
# Differential test of the promises model against @resonatehq/sdk@0.11.5's reference server.
#
#   run_differential.sh <path-to-promises_model_stdio> [requests=2000] [seed=1]
#
# Installs the pinned SDK (package-lock.json) into tests/promises/node_modules on first use.
# Exit 0: agreement; 1: a divergence (printed with the request sequence); 77: node is not installed.
set -euo pipefail

src=${BASH_SOURCE[0]}
[[ $src == */* ]] || src=./$src
here=$(cd "${src%/*}" && pwd)
model=${1:?usage: run_differential.sh <promises_model_stdio> [requests] [seed]}
requests=${2:-2000}
seed=${3:-1}

if ! command -v node >/dev/null 2>&1; then
  echo "node is not installed: skipping the promises differential test"
  exit 77
fi

# ctest may start the short and the long variant together: install once, under a lock.
if [[ ! -f "$here/node_modules/@resonatehq/sdk/package.json" ]]; then
  exec 9>"${TMPDIR:-/tmp}/seer-promises-npm-ci.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [[ ! -f "$here/node_modules/@resonatehq/sdk/package.json" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  exec 9>&-
fi

exec node "$here/differential.mjs" --model "$model" --requests "$requests" --seed "$seed"
