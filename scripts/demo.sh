#!/usr/bin/env bash
# The built-in demo (README Quickstart), as root, with no internet: builds a tiny image from
# the host's static busybox with `chrun import`, runs containers in full isolation (one with
# --explain: every isolation step and its cost), shows what the container can and cannot
# see and do, and that nothing is left behind. Run `bash scripts/setup.sh` first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${CHRUN_DEMO_ROOT:-/tmp/chrun-demo}
image=demo/busybox:latest
chrun() { bin/chrun --root "$root" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (containers need namespaces, mounts and cgroups)" >&2
  exit 1
fi
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  busybox=/bin/busybox
fi
[ -x "$busybox" ] || { echo "demo: needs busybox-static (bash scripts/setup.sh)" >&2; exit 1; }

# 1. an image from the host's busybox: one static binary and a link per applet
rootfs=$(mktemp -d /tmp/chrun-demo-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
chmod 755 "$rootfs" # the image's / (mktemp makes it 0700: no way in for -u nobody)
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
chrun rmi "$image" >/dev/null 2>&1 || true # an earlier demo's
say "tar -C ROOTFS -c . | chrun import -c 'CMD [\"sh\"]' - $image"
tar -C "$rootfs" -c . | chrun import -c 'CMD ["sh"]' - "$image"
say "chrun images"
chrun images

# 2. one container, every isolation step it took with its duration (on stderr)
say "chrun run --rm --explain $image true"
chrun run --rm --explain "$image" true

# 3. what a container sees: its own hostname, PID 1, lo only, docker's capabilities, limits
say "chrun run --rm -h demo --memory 64m --pids-limit 32 $image sh -c '...'"
chrun run --rm -h demo --memory 64m --pids-limit 32 "$image" sh -c '
  echo "hostname:      $(hostname)"
  echo "processes:     $(ps -o pid,comm | tail -n +2 | tr -s " " | tr "\n" ";")"
  echo "interfaces:    $(ip -o link | cut -d: -f2 | tr -d " " | tr "\n" " ")"
  echo "capabilities:  $(grep CapEff /proc/self/status | cut -f2) (docker'"'"'s 14)"
  echo "pids.max:      $(cat /sys/fs/cgroup/pids/pids.max)"
  echo "memory limit:  $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
  echo "mount tmpfs:   $(mount -t tmpfs none /mnt 2>&1)"
  echo "/proc/sys:     $( (echo x >/proc/sys/kernel/domainname) 2>&1)"
  echo "ping the host: $(ping -c1 -W1 10.0.2.2 2>&1 | tail -1)"'

# 4. exit codes as docker's; a user from the image's /etc/passwd
say "chrun run --rm -u nobody $image sh -c 'id; exit 3'; echo \"exit status: \$?\""
set +e
chrun run --rm -u nobody "$image" sh -c 'id; exit 3'
echo "exit status: $?"
say "chrun run --rm $image nosuchcommand; echo \"exit status: \$?\""
chrun run --rm "$image" nosuchcommand
echo "exit status: $?"
set -e

# 5. a kept container, listed and removed; then nothing is left
say "chrun run --name kept $image echo 'kept after it ends'; chrun ps -a; chrun rm kept"
chrun run --name kept "$image" echo 'kept after it ends'
chrun ps -a
chrun rm kept
say "chrun ps -a; grep -c $root /proc/self/mountinfo; ls $root/snapshots/containers"
chrun ps -a
echo "mounts under $root: $(grep -c "$root" /proc/self/mountinfo || true)"
echo "container roots left: $(ls "$root/snapshots/containers" | wc -l)"
