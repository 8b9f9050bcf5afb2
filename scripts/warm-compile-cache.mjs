// Fills Node's compile cache for the agent image at build time (Dockerfile.agent): the agent
// starts as a pod starts it (a config file, a stdio server), serves initialize, tools/list,
// tools/call and a GET stream, and stops; Node writes the compiled code of every module it loaded
// into $NODE_COMPILE_CACHE at exit. Pods run with a read-only root file system, so without this
// each start compiled everything again (start → ready on Node 24: 167 ms without a cache, 145 ms
// with a warm one; docs/benchmarks.md).
//   NODE_COMPILE_CACHE=/app/compile-cache node scripts/warm-compile-cache.mjs /app/dist/agent.js -- node bench/echo-raw.mjs
// (the server: bench/echo-raw.mjs, the bench's dependency-free stdio MCP server).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cache = process.env.NODE_COMPILE_CACHE;
const [agent, dashdash, ...server] = process.argv.slice(2);
if (!cache || !agent || dashdash !== '--' || server.length === 0) throw new Error('usage: NODE_COMPILE_CACHE=DIR node scripts/warm-compile-cache.mjs AGENT_JS -- SERVER COMMAND');
const dir = mkdtempSync(join(tmpdir(), 'warm-'));
const config = join(dir, 'agent.json');
writeFileSync(config, JSON.stringify({ audit: { enabled: true } }));
const port = 18080;
const child = spawn(process.execPath, [agent, '--config', config, '--port', String(port), '--', ...server], { stdio: ['ignore', 'ignore', 'inherit'] });
const exited = new Promise((resolve) => child.once('exit', resolve));
const base = `http://127.0.0.1:${port}/mcp`;
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 300) throw new Error('the agent did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const post = (body, session) => fetch(base, { method: 'POST', headers: { ...headers, ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(body) });
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'warm', version: '1' } } });
  const session = init.headers.get('mcp-session-id');
  await init.text();
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
  await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, session)).text();
  const call = await (await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'warm' } } }, session)).text();
  if (!call.includes('warm')) throw new Error(`unexpected tools/call answer: ${call}`);
  const stream = await fetch(base, { headers: { ...headers, accept: 'text/event-stream', 'mcp-session-id': session } });
  await stream.body?.cancel();
} finally {
  child.kill('SIGTERM');
  await exited;
}
const entries = readdirSync(cache, { recursive: true }).length;
if (entries === 0) throw new Error(`no compile cache written to ${cache}`);
console.log(`compile cache: ${entries} entries in ${cache}`);
