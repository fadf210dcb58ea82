#!/usr/bin/env bash
# Builds the Pulumi engine the tests run on, from pinned versions, into .pulumi-engine/bin:
#   pulumi                          the CLI (Go module github.com/pulumi/pulumi/pkg/v3, cmd/pulumi)
#   pulumi-language-nodejs          the Node.js language host, from ../shared/pulumi-language-nodejs
#   pulumi-resource-pulumi-nodejs   the dynamic-provider launcher shipped in the sdk module
# Users run the official Pulumi CLI instead (README: "The Pulumi engine"). Reuses GOMODCACHE and
# GOCACHE; skips everything when the binaries already carry the pinned versions.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli_version=${FLEET_PULUMI_CLI_VERSION:-v3.274.1}
host_version=${FLEET_PULUMI_HOST_VERSION:-v3.260.0}
host_src=${FLEET_PULUMI_HOST_SRC:-$root/../shared/pulumi-language-nodejs}
out=${FLEET_PULUMI_DIR:-$root/.pulumi-engine}
bin=$out/bin
mkdir -p "$bin"
stamp="$bin/.versions"
want="cli=$cli_version host=$host_version"
if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] \
   && [ -x "$bin/pulumi-resource-pulumi-nodejs" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "engine: current ($want) in $bin"
  exit 0
fi
command -v go >/dev/null || { echo "engine: go is not on PATH (Go >= 1.24 is needed)" >&2; exit 1; }
[ -f "$host_src/main.go" ] || { echo "engine: no language host source at $host_src" >&2; exit 1; }
tags=osusergo,grpcnotrace
vpkg=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
start=$(date +%s)

# The CLI: a wrapper module that pins pkg/v3 and sdk/v3 to one version and copies pkg's own
# replace directives (all but those pointing into the pulumi repository, which a module cannot use).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg_mod=$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/pkg/v3@$cli_version" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$pkg_mod" ] || { echo "engine: could not download pkg/v3@$cli_version" >&2; exit 1; }
{
  echo "module fleet.local/pulumi-engine"
  echo
  grep -E '^go [0-9]' "$pkg_mod" | head -1
  echo
  echo "require ("
  echo "  github.com/pulumi/pulumi/pkg/v3 $cli_version"
  echo "  github.com/pulumi/pulumi/sdk/v3 $cli_version"
  echo ")"
  echo
  # single-line and block replace directives, skipping local paths (=> ./ or ../)
  awk '
    /^replace \(/ { inblock=1; next }
    inblock && /^\)/ { inblock=0; next }
    inblock { if ($0 !~ /=> *\.\.?\//) print "replace " $0; next }
    /^replace / { if ($0 !~ /=> *\.\.?\//) print }
  ' "$pkg_mod"
  echo
  echo "// keeps cmd/pulumi in the module graph"
} > "$work/go.mod"
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
(cd "$work" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
(cd "$work" && GOFLAGS=-mod=mod go build -trimpath -tags "$tags" \
  -ldflags "-s -w -X $vpkg=$cli_version" -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
echo "engine: pulumi $cli_version built ($(( $(date +%s) - start )) s)"

# The Node.js language host: built from its source folder without writing into it.
hstart=$(date +%s)
hwork=$(mktemp -d)
cp "$host_src"/*.go "$host_src"/go.mod "$host_src"/go.sum "$hwork"/
(cd "$hwork" && go build -trimpath -tags "$tags" -ldflags "-s -w -X $vpkg=$host_version" \
  -o "$bin/pulumi-language-nodejs" .)
rm -rf "$hwork"
echo "engine: pulumi-language-nodejs $host_version built ($(( $(date +%s) - hstart )) s)"

# The dynamic-provider launcher from the sdk module the CLI was built with.
sdk_dir=$(cd "$work" && go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/sdk/v3")
install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$bin/pulumi-resource-pulumi-nodejs"
echo "$want" > "$stamp"
echo "engine: ready in $bin ($(( $(date +%s) - start )) s)"
