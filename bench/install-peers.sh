#!/usr/bin/env bash
# Installs the peers chrun is benchmarked against, from Debian (podman, runc, crun,
# bubblewrap, skopeo, umoci, hyperfine), and makes podman run on this host:
#   - runtime runc;
#   - default_ulimits no higher than this host's hard limits (podman's default, 1048576, is
#     above them here, and without CAP_SYS_RESOURCE runc then fails to set rlimits);
#   - a tiny local image, localhost/chrun-bench/busybox, imported from the host's static
#     busybox (no registry involved);
# then checks that `podman --runtime runc run --rm --network none IMAGE true` works.
# Run as root; safe to run again.
set -euo pipefail

IMAGE=localhost/chrun-bench/busybox:latest
CONF=/etc/containers/containers.conf
MARK='# written by chrun bench/install-peers.sh'
PACKAGES=(podman runc crun bubblewrap skopeo umoci hyperfine busybox-static)

if [ "$(id -u)" != 0 ]; then
  echo "install-peers: run as root" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-peers: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The hard limits of this host; "unlimited" stays within podman's own defaults.
limit() {
  local hard
  hard=$(ulimit "-H$1")
  if [ "$hard" = unlimited ] || [ "$hard" -gt "$2" ]; then echo "$2"; else echo "$hard"; fi
}
# podman 4.3 lowers its own hard nproc to 32768 before it starts the runtime (seen in
# /proc/PID/limits of podman), so the container's nproc cannot be above that either.
nofile=$(limit n 1048576)
nproc=$(limit u 32768)

if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  echo "install-peers: $CONF exists and was not written by this script; set in it:" >&2
  echo "  [containers] default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]" >&2
  echo "  [engine] runtime = \"runc\"" >&2
  exit 1
fi
mkdir -p "$(dirname "$CONF")"
cat >"$CONF" <<EOF
$MARK
# This host's hard limits cannot be raised: nofile $(ulimit -Hn), nproc $(ulimit -Hu).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
echo "install-peers: wrote $CONF (runc; nofile=$nofile, nproc=$nproc)"

if ! podman image exists "$IMAGE"; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh true echo cat ls; do ln -s busybox "$rootfs/bin/$applet"; done
  tar -C "$rootfs" -c . | podman import --quiet - "$IMAGE" >/dev/null
  echo "install-peers: imported $IMAGE from /bin/busybox"
fi

podman --runtime runc run --rm --network none "$IMAGE" true
echo "install-peers: podman --runtime runc run --rm --network none $IMAGE true: ok"
for cmd in runc crun bwrap skopeo umoci hyperfine; do
  printf 'install-peers: %-9s %s\n' "$cmd" "$("$cmd" --version 2>&1 | head -1)"
done
