#!/usr/bin/env bash
# The Gateway API CRDs the k8s and e2e test clusters install (test/k8s/helpers.ts, test/e2e/global-setup.ts):
# GatewayClass, Gateway, HTTPRoute and ReferenceGrant of the standard channel, the YAML the
# sigs.k8s.io/gateway-api Go module ships under config/crd/standard/ (fetched through the Go module
# download, like the rest of test/k8s/build.sh, which runs this).
#
# Idempotent: the files go to a cache directory keyed by the pinned version
#   ${OME_MCP_CACHE:-$HOME/.cache/ome-mcp}/gateway-api/<version>/
# and test/k8s/gateway-api is a directory of symlinks to them. When that directory is complete
# nothing is downloaded.
set -euo pipefail

GATEWAY_API_VERSION="v1.6.3"
CRDS=(gatewayclasses gateways httproutes referencegrants)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[gateway-api %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v go >/dev/null 2>&1 || die "the go command is required"

out="${OME_MCP_CACHE:-$HOME/.cache/ome-mcp}/gateway-api/$GATEWAY_API_VERSION"
link="$here/gateway-api"
file() { printf 'gateway.networking.k8s.io_%s.yaml' "$1"; }

complete() {
  [ -f "$out/.complete" ] || return 1
  local c
  for c in "${CRDS[@]}"; do [ -s "$out/$(file "$c")" ] || return 1; done
}

if ! complete; then
  log "fetching sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
  # Outside any module: `go mod download` of a module path@version then needs no go.mod.
  dir="$(cd / && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [ -n "$dir" ] && [ -d "$dir/config/crd/standard" ] || die "no config/crd/standard in the downloaded module ($dir)"
  mkdir -p "$(dirname "$out")"
  tmp="$(mktemp -d "$(dirname "$out")/.tmp-$GATEWAY_API_VERSION.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  for c in "${CRDS[@]}"; do
    [ -f "$dir/config/crd/standard/$(file "$c")" ] || die "$(file "$c") not in $dir/config/crd/standard"
    cp "$dir/config/crd/standard/$(file "$c")" "$tmp/"
  done
  chmod -R u+w,a+r "$tmp"
  printf 'gateway-api=%s\n' "$GATEWAY_API_VERSION" >"$tmp/VERSION"
  touch "$tmp/.complete"
  rm -rf "$out"
  mv "$tmp" "$out"
  trap - EXIT
else
  log "cached: ${CRDS[*]} ($GATEWAY_API_VERSION)"
fi

rm -rf "$link"
mkdir -p "$link"
for c in "${CRDS[@]}"; do ln -s "$out/$(file "$c")" "$link/$(file "$c")"; done
log "test/k8s/gateway-api/ -> $out"
