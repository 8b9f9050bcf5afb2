// `node --import tsx bench/aggregate.ts` (after `npm run build`): what the aggregate (backends,
// docs/aggregate.md) costs. In one run, on loopback, each agent a child process (dist/agent.js):
//
//   1. per-call overhead: sequential tools/call echo through a direct agent (`-- <server>`) and
//      through an aggregate agent with that same server as its one backend: wall µs/call (the two
//      measured in many short alternating rounds, so machine noise hits both; the overhead is the
//      median of the rounds' differences) and the agent process's own CPU µs/call (robust to a
//      busy machine: what the aggregate costs, not what the wait for a core costs)
//   2. merged tools/list: an aggregate of BACKENDS (10) servers × TOOLS (50) tools, ms per list
//      (each list fetches every backend's list: servers that never announce changes are still current)
//
// Environment: BENCH_CALLS (calls per round, default 500), BENCH_ROUNDS (default 20),
// BENCH_LISTS (tools/list calls, default 100), BENCH_BACKENDS (10), BENCH_TOOLS (50),
// BENCH_AGENT (default dist/agent.js). JSON to bench/results/aggregate.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuSecondsBetween, cpuTicks } from './proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const AGENT = resolve(root, process.env.BENCH_AGENT ?? 'dist/agent.js');
const SERVER = join(here, 'many-tools-server.mjs');
const CALLS = Number(process.env.BENCH_CALLS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const LISTS = Number(process.env.BENCH_LISTS ?? 100);
const BACKENDS = Number(process.env.BENCH_BACKENDS ?? 10);
const TOOLS = Number(process.env.BENCH_TOOLS ?? 50);

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const c of children) if (c.pid) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
};
process.on('exit', killAll);
process.on('SIGINT', () => (killAll(), process.exit(130)));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer().once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** An agent child on a free loopback port, once /readyz says 200. */
async function agent(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [AGENT, '--port', String(port), '--log-level', 'error', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) return { url: `${base}/mcp`, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`agent ${args.join(' ')} not ready`);
}

/** A 2025 session over streamable HTTP with plain fetch (keep-alive): the client costs the same for every row. */
async function session(url: string): Promise<(method: string, params: Record<string, unknown>) => Promise<any>> {
  let id = 0;
  let sid = '';
  const post = async (body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(sid ? { 'mcp-session-id': sid } : {}) }, body: JSON.stringify(body) });
    sid ||= res.headers.get('mcp-session-id') ?? '';
    const text = await res.text();
    return text ? JSON.parse(text.startsWith('{') ? text : text.split('\n').find((l) => l.startsWith('data: {'))!.slice(6)) : undefined;
  };
  await post({ jsonrpc: '2.0', id: ++id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return async (method, params) => {
    const r = await post({ jsonrpc: '2.0', id: ++id, method, params });
    if (r?.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  };
}

async function usPerCall(call: Awaited<ReturnType<typeof session>>, tool: string, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await call('tools/call', { name: tool, arguments: { text: 'x' } });
  return ((performance.now() - started) * 1000) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tmp = mkdtempSync(join(os.tmpdir(), 'ome-bench-aggregate-'));
const config = (backends: number) => {
  const file = join(tmp, `aggregate-${backends}.json`);
  writeFileSync(file, JSON.stringify({ backends: Array.from({ length: backends }, (_, i) => ({ name: `b${i}`, command: ['node', SERVER], env: { TOOLS: String(TOOLS) } })) }));
  return file;
};

if (!existsSync(AGENT)) throw new Error(`${AGENT} missing: npm run build first`);

// 1. per-call overhead, same server behind both
const direct = await agent(['--', 'node', SERVER], { TOOLS: '0' });
const single = await agent(['--config', config(1)], { TOOLS: '0' });
const [callDirect, callAggregate] = await Promise.all([session(direct.url), session(single.url)]);
await usPerCall(callDirect, 'echo', 300);
await usPerCall(callAggregate, 'b0_echo', 300);
const rounds = { direct: [] as number[], aggregate: [] as number[] };
const cpu = { direct: 0, aggregate: 0 };
/** A round through one agent: its wall µs/call, and the agent process's CPU seconds added to `cpu`. */
const measured = async (which: 'direct' | 'aggregate') => {
  const a = which === 'direct' ? direct : single;
  const before = cpuTicks([a.child.pid!]);
  rounds[which].push(await usPerCall(which === 'direct' ? callDirect : callAggregate, which === 'direct' ? 'echo' : 'b0_echo', CALLS));
  cpu[which] += cpuSecondsBetween(before, cpuTicks([a.child.pid!]));
};
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which goes first, so neither always runs right after the other's burst.
  for (const which of r % 2 ? (['aggregate', 'direct'] as const) : (['direct', 'aggregate'] as const)) await measured(which);
}
const differences = rounds.aggregate.map((a, i) => a - rounds.direct[i]!);
const cpuUs = (which: 'direct' | 'aggregate') => (cpu[which] * 1e6) / (ROUNDS * CALLS);
for (const a of [direct, single]) {
  children.delete(a.child);
  process.kill(-a.child.pid!, 'SIGKILL');
}

// 2. merged tools/list over BACKENDS × TOOLS
const startedAt = performance.now();
const many = await agent(['--config', config(BACKENDS)]);
const readyMs = performance.now() - startedAt;
const list = await session(many.url);
const first = await list('tools/list', {});
if (first.tools.length !== BACKENDS * (TOOLS + 1)) throw new Error(`expected ${BACKENDS * (TOOLS + 1)} tools, got ${first.tools.length}`);
const listMs: number[] = [];
for (let i = 0; i < LISTS; i++) {
  const t = performance.now();
  await list('tools/list', {});
  listMs.push(performance.now() - t);
}
await usPerCall(list, `b${BACKENDS - 1}_tool-${TOOLS - 1}`, 300); // warm-up, as for the rows above
const callMany = await usPerCall(list, `b${BACKENDS - 1}_tool-${TOOLS - 1}`, CALLS);

const result = {
  calls: CALLS,
  rounds: ROUNDS,
  directUsPerCall: median(rounds.direct),
  aggregateUsPerCall: median(rounds.aggregate),
  overheadUsPerCall: median(differences),
  directAgentCpuUsPerCall: cpuUs('direct'),
  aggregateAgentCpuUsPerCall: cpuUs('aggregate'),
  allRounds: rounds,
  backends: BACKENDS,
  toolsPerBackend: TOOLS,
  toolsListed: first.tools.length,
  toolsListMedianMs: median(listMs),
  toolsListP90Ms: [...listMs].sort((a, b) => a - b)[Math.floor(listMs.length * 0.9)]!,
  startToReadyMs: readyMs,
  callUsPerCallWith10Backends: callMany,
  node: process.version,
  cpus: os.cpus().length,
};
const f1 = (n: number) => n.toFixed(1);
console.log(`| measure | value |
|---|---|
| tools/call echo, direct agent | ${f1(result.directUsPerCall)} µs/call |
| tools/call echo, aggregate (1 backend) | ${f1(result.aggregateUsPerCall)} µs/call |
| aggregate overhead, wall (median of round differences) | ${f1(result.overheadUsPerCall)} µs/call |
| agent process CPU, direct → aggregate | ${f1(result.directAgentCpuUsPerCall)} → ${f1(result.aggregateAgentCpuUsPerCall)} µs/call (+${f1(result.aggregateAgentCpuUsPerCall - result.directAgentCpuUsPerCall)}) |
| tools/call, aggregate of ${BACKENDS} | ${f1(callMany)} µs/call |
| tools/list, ${BACKENDS} backends × ${TOOLS + 1} tools (${first.tools.length}) | ${result.toolsListMedianMs.toFixed(2)} ms median, ${result.toolsListP90Ms.toFixed(2)} ms p90 |
| start to ready, ${BACKENDS} backends | ${readyMs.toFixed(0)} ms |
(${ROUNDS} alternating rounds of ${CALLS} sequential calls, medians; one session; load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; Node ${process.version}, ${os.cpus().length} CPUs)`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'aggregate.json'), JSON.stringify(result, null, 2) + '\n');
killAll();
process.exit(0);
