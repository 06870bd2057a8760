#!/bin/sh
# Checks that every header and library the helper needs is installed, and names the Debian
# package that provides each missing one, so a failed build says what to do.
set -u
CC=${CC:-gcc}
missing=""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "chrun native build: C compiler '$CC' not found: apt-get install gcc make" >&2
  exit 1
fi

check() { # header package [library]
  printf '#include <%s>\nint main(void){return 0;}\n' "$1" >"$tmp/t.c"
  if ! "$CC" -o "$tmp/t" "$tmp/t.c" ${3:+-l$3} >/dev/null 2>&1; then
    missing="$missing $2"
    echo "chrun native build: missing <$1>${3:+ or lib$3}: apt-get install $2" >&2
  fi
}

check stdio.h libc6-dev
check linux/sched.h linux-libc-dev
check linux/seccomp.h linux-libc-dev
check seccomp.h libseccomp-dev seccomp

if [ -n "$missing" ]; then
  echo "chrun native build: install the missing packages with: apt-get install$missing" >&2
  exit 1
fi
