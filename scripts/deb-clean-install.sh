#!/usr/bin/env bash
# The Debian package on a machine that has never seen seer: a fresh Debian 12 (bookworm) root made
# by debootstrap, the .deb installed into it with apt (which brings its dependencies from Debian's
# mirror, as `dpkg -i` followed by `apt-get -f install` would), then a `seer new` project configured
# with find_package(seer), built and swept inside that root. Needs root, debootstrap and Debian's
# mirror; takes a few minutes, so it is not part of the test command (docs/dependency.md).
#   scripts/deb-clean-install.sh build/release/seer_0.2.0_amd64.deb [ROOT_DIR]
set -euo pipefail
deb="${1:?usage: $0 SEER_DEB [ROOT_DIR]}"
root="${2:-$(mktemp -d /tmp/seer-bookworm.XXXXXX)}"
mirror="${SEER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" -eq 0 ] || { echo "deb-clean-install: needs root (debootstrap, chroot)" >&2; exit 2; }
[ -f "$deb" ] || { echo "deb-clean-install: no such package: $deb" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "deb-clean-install: apt-get install debootstrap" >&2; exit 2; }

step() { echo "== [$SECONDS s] $1"; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive bash -c "$1"; }
cleanup() { umount "$root/proc" 2>/dev/null || true; }
trap cleanup EXIT

if [ ! -x "$root/usr/bin/apt-get" ]; then
  step "debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log"; exit 1; }
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
in_root "command -v seer" >/dev/null 2>&1 && { echo "deb-clean-install: $root already has seer" >&2; exit 2; }

step "apt-get install ./$(basename "$deb") (and what it depends on)"
cp "$deb" "$root/tmp/"
in_root "apt-get update -qq && apt-get install -y -qq /tmp/$(basename "$deb")" >"$root.apt.log" 2>&1 ||
  { tail -n 30 "$root.apt.log"; exit 1; }
in_root "dpkg -s seer | grep -E '^(Version|Depends)'"

step "seer new, then configure with find_package(seer), build and sweep, inside the root"
in_root "cd /root && rm -rf demo && seer new demo && cmake -S demo -B demo/build >/dev/null &&
  cmake --build demo/build -j2 >/dev/null && demo/build/demo list &&
  demo/build/demo sweep demo --variant dedupe --seeds 1..100 &&
  { demo/build/demo sweep demo --variant naive --seeds 1..100; [ \$? -eq 1 ]; } &&
  ctest --test-dir demo/build"
step "the package works on a fresh Debian 12 root ($root)"
