#!/usr/bin/env bash
# Installs seer's build dependencies from Debian 12 packages, and with --test also what the tests need
# (Chromium and Node.js for the viewer's browser test, Slurm, munge and kubectl for deploy/'s).
# Idempotent: does nothing when all packages are present.
set -euo pipefail
packages=(cmake ninja-build g++ clang clang-format libgtest-dev libgmock-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libfmt-dev libsqlite3-dev libclang-rt-14-dev
          libcpp-httplib-dev pkg-config libpq-dev libboost1.81-dev libssl-dev
          libmimalloc-dev lld)
if [ "${1:-}" = "--test" ]; then
  packages+=(python3 chromium curl postgresql-15 openssl)
  # The viewer's browser test drives Chromium with the npm package playwright-core (tests/view).
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
  # deploy/'s tests (tests/deploy): a single-node Slurm cluster runs the array job, and kubectl
  # checks the Kubernetes manifests offline (any kubectl will do: Debian's is kubernetes-client).
  packages+=(slurm-wlm munge)
  command -v kubectl >/dev/null || packages+=(kubernetes-client)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
