#!/usr/bin/env bash
# The built-in demo: runs what chrun can do today on this host, with no internet.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${CHRUN_DEMO_ROOT:-/tmp/chrun-demo}
echo "\$ chrun --root $root info"
bin/chrun --root "$root" info
