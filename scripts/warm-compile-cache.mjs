// Fills Node's compile cache for the agent image at build time (Dockerfile.agent): the agent
// starts as a pod starts it (a config file, a stdio server), serves initialize, tools/list,
// tools/call and a GET stream, and stops; Node writes the compiled code of every module it loaded
// into $NODE_COMPILE_CACHE at exit. Pods run with a read-only root file system, so without this
// each start compiled everything again (start → ready on Node 24: 167 ms without a cache, 145 ms
// with a warm one; docs/benchmarks.md).
//   NODE_COMPILE_CACHE=/app/compile-cache node scripts/warm-compile-cache.mjs /app/dist/agent.js
// With `serve` it is instead the dependency-free stdio MCP server the agent is started in front of.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'serve') {
  const send = (msg) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  const tool = { name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.id === undefined) return;
    if (msg.method === 'initialize') send({ id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'warm', version: '1' } } });
    else if (msg.method === 'tools/list') send({ id: msg.id, result: { tools: [tool] } });
    else if (msg.method === 'tools/call') send({ id: msg.id, result: { content: [{ type: 'text', text: String(msg.params.arguments?.text) }] } });
    else send({ id: msg.id, error: { code: -32601, message: 'not found' } });
  });
} else {
  const cache = process.env.NODE_COMPILE_CACHE;
  const agent = process.argv[2];
  if (!cache || !agent) throw new Error('usage: NODE_COMPILE_CACHE=DIR node scripts/warm-compile-cache.mjs AGENT_JS');
  const dir = mkdtempSync(join(tmpdir(), 'warm-'));
  const config = join(dir, 'agent.json');
  writeFileSync(config, JSON.stringify({ audit: { enabled: true } }));
  const port = 18080;
  const child = spawn(process.execPath, [agent, '--config', config, '--port', String(port), '--', process.execPath, fileURLToPath(import.meta.url), 'serve'], { stdio: ['ignore', 'ignore', 'inherit'] });
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
}
