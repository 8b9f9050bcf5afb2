// Where bench/setup.sh installs the peers that are not npm devDependencies (the Rust and the
// Python mcp-proxy), cached by version. The runner only looks: a peer that is not there gives
// its rows "not installed, run bench/setup.sh". Keep the versions in step with bench/setup.sh.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export const BENCH_CACHE = process.env.OME_BENCH_CACHE ?? join(os.homedir(), '.cache/ome-mcp/bench');

export const RUST_MCP_PROXY_VERSION = '0.6.0';
export const PY_MCP_PROXY_VERSION = '0.13.0';
/** The Node the images run (test/k8s/images.sh NODE_VERSION), installed by `bench/setup.sh node`. */
export const IMAGE_NODE_VERSION = '24.22.3';
export const IMAGE_NODE = join(BENCH_CACHE, `node-${IMAGE_NODE_VERSION}`, 'bin/node');

const RUST_DIR = join(BENCH_CACHE, `rust-mcp-proxy-${RUST_MCP_PROXY_VERSION}`);
const PY_DIR = join(BENCH_CACHE, `py-mcp-proxy-${PY_MCP_PROXY_VERSION}`);
export const RUST_MCP_PROXY = join(RUST_DIR, 'bin/mcp-proxy');
export const PY_MCP_PROXY = join(PY_DIR, 'venv/bin/mcp-proxy');

/** undefined when setup.sh finished installing the peer (its .ok marker), else the reason shown in the table. */
export function peerMissing(which: 'rust' | 'python'): string | undefined {
  const [dir, bin] = which === 'rust' ? [RUST_DIR, RUST_MCP_PROXY] : [PY_DIR, PY_MCP_PROXY];
  return existsSync(join(dir, '.ok')) && existsSync(bin) ? undefined : 'not installed, run bench/setup.sh';
}

/**
 * The Rust proxy's config: one stdio backend named `echo` (its tools become `echo/echo`),
 * served on `/`. Written per cell.
 */
export function rustProxyConfig(port: number, command: string, args: string[]): string {
  const q = (s: string) => JSON.stringify(s); // a TOML basic string is JSON-compatible for these paths
  return [
    '[proxy]',
    'name = "ome-mcp-bench"',
    'separator = "/"',
    '',
    '[proxy.listen]',
    'host = "127.0.0.1"',
    `port = ${port}`,
    '',
    '[[backends]]',
    'name = "echo"',
    'transport = "stdio"',
    `command = ${q(command)}`,
    `args = [${args.map(q).join(', ')}]`,
    '',
    // Its documented default; without the section the filter comes out empty and every request
    // is logged at debug (the agent logs none at its default level either).
    '[observability]',
    'log_level = "info"',
    '',
  ].join('\n');
}
