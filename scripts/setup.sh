#!/usr/bin/env bash
# Sets chrun up on Debian/Ubuntu as root: the system packages it and its tests use, the npm
# dependencies, the TypeScript build and the C helper. Safe to run again; it only does what
# is missing. CHRUN_SETUP_UPDATE=1 forces 'apt-get update' first (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # building the C helper, and libchrun-gunzip.so (ISA-L's igzip, OpenSSL's sha256)
  gcc make libc6-dev linux-libc-dev libseccomp-dev pkg-config libisal-dev libssl-dev
  # what chrun uses at run time
  iproute2 iptables nftables util-linux zstd containernetworking-plugins
  # what the tests use: images, a real registry, independent peers
  busybox-static docker-registry skopeo umoci apache2-utils tar procps oci-image-tool openssl attr libcap2-bin
  python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] || [ "${CHRUN_SETUP_UPDATE:-0}" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=18)?0:1)'; then
  echo "setup: chrun needs Node.js >= 20.18 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run -s build
