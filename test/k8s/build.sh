#!/usr/bin/env bash
# Builds the real Kubernetes used by the `k8s` and `e2e` test projects:
# kube-apiserver, kube-controller-manager, kube-scheduler, and for the real
# node kubelet and kube-proxy, plus kubectl, all from k8s.io/kubernetes; etcd
# from go.etcd.io/etcd/server/v3 (all through the module in test/k8s/go); and
# the kwok controller (sigs.k8s.io/kwok) with its "fast" stages and a node
# lease heartbeat, for the control-plane tests and the scale bench; and (gateway-api.sh)
# the Gateway API CRDs of sigs.k8s.io/gateway-api that the test clusters install.
#
# Idempotent: binaries go to a cache directory keyed by the pinned versions
#   ${OME_MCP_CACHE:-$HOME/.cache/ome-mcp}/k8s/<versions>/
# and test/k8s/bin is a symlink to it. When that directory is complete nothing
# is built. The default Go build and module caches are reused.
#
# Environment:
#   OME_MCP_CACHE          cache root (default $HOME/.cache/ome-mcp)
#   OME_MCP_K8S_KWOK=0     do not build kwok (the harness then runs without it)
#   OME_MCP_K8S_FORCE=1    rebuild even when the cache directory is complete
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gomod_dir="$here/go"

# Pinned versions. kube and etcd come from test/k8s/go/go.mod (single source of
# truth); kwok is installed at this exact version with `go install pkg@version`.
KWOK_VERSION="v0.8.0"
build_kwok="${OME_MCP_K8S_KWOK:-1}"

log() { printf '[k8s-build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "the go command is required (Go >= 1.26)"

# The Gateway API CRDs the test clusters install: cached by their own version (not part of the
# binaries' cache key below).
bash "$here/gateway-api.sh"

modversion() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$gomod_dir/go.mod"; }
KUBE_VERSION="$(modversion k8s.io/kubernetes)"
ETCD_VERSION="$(modversion go.etcd.io/etcd/server/v3)"
[ -n "$KUBE_VERSION" ] || die "k8s.io/kubernetes not found in $gomod_dir/go.mod"
[ -n "$ETCD_VERSION" ] || die "go.etcd.io/etcd/server/v3 not found in $gomod_dir/go.mod"

# A short hash of everything that changes the output, so an edit to the module
# or to the build flags below never reuses stale binaries.
inputs_hash="$(cat "$gomod_dir/go.mod" "$gomod_dir/go.sum" "$gomod_dir/etcd/main.go" \
  <(sed -n '/^# --- build recipe ---/,$p' "${BASH_SOURCE[0]}") \
  <(go env GOVERSION GOOS GOARCH) | sha256sum | cut -c1-10)"

key="kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}"
[ "$build_kwok" = "0" ] || key="${key}_kwok-${KWOK_VERSION}"
key="${key}_${inputs_hash}"

cache_root="${OME_MCP_CACHE:-$HOME/.cache/ome-mcp}/k8s"
out="$cache_root/$key"
bin_link="$here/bin"

binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl etcd)
[ "$build_kwok" = "0" ] || binaries+=(kwok)

# test/k8s/bin is a real directory of symlinks into the cache (a directory, so
# the `/test/k8s/bin/` line of .gitignore matches it; a symlink would not be).
link_bin() {
  local f
  rm -rf "$bin_link"
  mkdir -p "$bin_link"
  for f in "$out"/*; do ln -s "$f" "$bin_link/$(basename "$f")"; done
  log "test/k8s/bin/ -> $out"
}

complete() {
  [ -f "$out/.complete" ] || return 1
  local b
  for b in "${binaries[@]}"; do [ -x "$out/$b" ] || return 1; done
  [ "$build_kwok" = "0" ] || [ -f "$out/kwok-stages.yaml" ] || return 1
}

if [ "${OME_MCP_K8S_FORCE:-0}" != "1" ] && complete; then
  log "cached: ${binaries[*]} ($key)"
  link_bin
  exit 0
fi

# --- build recipe ---
# (everything below is part of the cache key hash)
total_start=$SECONDS
log "building ${binaries[*]} into $out"
log "kubernetes $KUBE_VERSION, etcd $ETCD_VERSION$([ "$build_kwok" = "0" ] || echo ", kwok $KWOK_VERSION"); $(go version)"
mkdir -p "$cache_root"
# One build at a time per cache root (parallel CI jobs, a second shell).
exec 9>"$cache_root/.build.lock"
flock 9

if [ "${OME_MCP_K8S_FORCE:-0}" != "1" ] && complete; then
  log "built meanwhile by another process"
  link_bin
  exit 0
fi

tmp="$(mktemp -d "$cache_root/.tmp-$key.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

export CGO_ENABLED=0
# Build with nice: the machines this runs on are small and shared.
gobuild() { nice -n 10 go "$@"; }

step_start=$SECONDS
log "downloading modules"
(cd "$gomod_dir" && gobuild mod download)
log "modules ready in $((SECONDS - step_start))s"

kube_minor="${KUBE_VERSION#v1.}"; kube_minor="${kube_minor%%.*}"
version_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done

step_start=$SECONDS
log "compiling the Kubernetes binaries and etcd (cold: 12-20 minutes on 2 cores)"
(cd "$gomod_dir" && gobuild build -trimpath -buildvcs=false -ldflags="-s -w$version_ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kubectl \
  ./etcd)
log "compiled the Kubernetes binaries and etcd in $((SECONDS - step_start))s"

if [ "$build_kwok" != "0" ]; then
  step_start=$SECONDS
  log "compiling kwok $KWOK_VERSION"
  # kwok has no replace lines, so it installs straight from its own module.
  (cd "$tmp" && GOBIN="$tmp" gobuild install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
  log "compiled kwok in $((SECONDS - step_start))s"
  # The kwok binary ships no stages; kwokctl normally passes its "fast" ones
  # (kustomize/stage/fast in the kwok module). Same files, one config file.
  kwok_src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$kwok_src/$f" ] || die "kwok stage $f not found in $kwok_src"
    printf -- '---\n'; cat "$kwok_src/$f"
  done >"$tmp/kwok-stages.yaml"
fi

for b in "${binaries[@]}"; do [ -x "$tmp/$b" ] || die "missing $b after build"; done
printf 'kube=%s etcd=%s kwok=%s go=%s\n' "$KUBE_VERSION" "$ETCD_VERSION" \
  "$([ "$build_kwok" = "0" ] && echo none || echo "$KWOK_VERSION")" "$(go env GOVERSION)" >"$tmp/VERSIONS"
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
link_bin
log "done in $((SECONDS - total_start))s"
