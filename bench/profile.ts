// CPU profile of the agent under the bench's load: `node --import tsx bench/profile.ts`.
// Starts dist/agent.js with --cpu-prof in front of bench/echo-server.mjs, runs one cell of
// bench/load.ts (PROFILE_SESSIONS, default 16; PROFILE_SECONDS, default 5; PROFILE_PROTOCOL
// 2025 | modern; PROFILE_POLICY=1 for JWT + 200 Cedar policies + tools filter + audit), stops the
// agent (SIGTERM writes the profile) and prints the top functions by self time and the load's
// numbers. The .cpuprofile stays in bench/results/prof/ (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentPolicyConfig, startAuthFixture } from './auth.js';
import { runLoad } from './load.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const profDir = join(here, 'results/prof');
const sessions = Number(process.env.PROFILE_SESSIONS ?? 16);
const seconds = Number(process.env.PROFILE_SECONDS ?? 5);
const protocol = process.env.PROFILE_PROTOCOL === 'modern' ? 'modern' : '2025';
const withPolicy = process.env.PROFILE_POLICY === '1';

const port = await new Promise<number>((r) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => r(p));
  });
});
rmSync(profDir, { recursive: true, force: true });
mkdirSync(profDir, { recursive: true });
const auth = withPolicy ? await startAuthFixture() : undefined;
const args = ['--cpu-prof', '--cpu-prof-dir', profDir, join(root, 'dist/agent.js'), '--port', String(port)];
if (auth) {
  const file = join(profDir, 'config.json');
  writeFileSync(file, JSON.stringify(agentPolicyConfig(auth, 200, `http://127.0.0.1:${port}/mcp`)));
  args.push('--config', file);
}
args.push('--', process.execPath, join(here, 'echo-server.mjs'));
const agent = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
let agentExit: string | undefined;
agent.once('exit', (code, signal) => (agentExit = `agent exited (code ${code}, signal ${signal})`));
for (let i = 0; ; i++) {
  const ok = await new Promise<boolean>((r) => http.get(`http://127.0.0.1:${port}/readyz`, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false)));
  if (ok) break;
  if (agentExit || i > 2000) throw new Error(agentExit ?? 'agent not ready');
  await new Promise((r) => setTimeout(r, 10));
}
const result = await runLoad({
  kind: 'http',
  url: `http://127.0.0.1:${port}/mcp`,
  protocol,
  headers: auth ? { authorization: `Bearer ${auth.token}` } : undefined,
  sessions,
  warmupCalls: 500,
  warmupTimeoutMs: 10_000,
  seconds,
  hardTimeoutMs: 60_000 + seconds * 1000,
  serverPids: [agent.pid!],
});
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
await auth?.close();
console.log(`${sessions} sessions, ${protocol}${withPolicy ? ', policy on' : ''}: ${Math.round(result.rps)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, tree CPU ${((result.serverCpuSeconds / result.requests) * 1e6).toFixed(0)} µs/call, errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ''}`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: Node[]; samples: number[] };
const self = new Map<string, number>();
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
for (const id of prof.samples) {
  const n = byId.get(id)!;
  const f = n.callFrame;
  const where = f.url.replace(/^.*\/(node_modules\/[^/]+(\/[^/]+)?|dist)\//, '$1/').replace(/^node:/, 'node:');
  const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + 1);
}
const total = prof.samples.length;
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 40));
for (const [k, v] of top) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log(`profile: ${join(profDir, file)}`);
