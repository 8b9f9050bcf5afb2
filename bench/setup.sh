#!/usr/bin/env bash
# Installs the bench's peers that are not npm devDependencies, cached by version, idempotent:
#   - the Rust mcp-proxy (crates.io mcp-proxy 0.6.0, feature protocol-2026-07-28), by cargo
#   - the Python mcp-proxy (PyPI mcp-proxy 0.13.0), in its own venv
# under ${OME_BENCH_CACHE:-~/.cache/ome-mcp/bench}/<name>-<version>/. A finished install leaves
# a .ok marker, so a second run does nothing; a broken one is redone. bench/run.ts looks for the
# same paths (bench/peers.ts) and marks a missing peer's rows "not installed, run bench/setup.sh".
# Never run by CI: the bench is a developer's tool. Takes about 5-10 minutes on 2 cores (cargo).
#
#   bash bench/setup.sh            # both
#   bash bench/setup.sh rust       # only one: rust | python
set -euo pipefail

CACHE="${OME_BENCH_CACHE:-$HOME/.cache/ome-mcp/bench}"
RUST_VERSION=0.6.0
PY_VERSION=0.13.0
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

case "$want" in
  all) rust; python ;;
  rust) rust ;;
  python) python ;;
  *) echo "usage: bench/setup.sh [all|rust|python]" >&2; exit 2 ;;
esac
