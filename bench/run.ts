// `npm run bench`: one table, one run, one echo server (bench/echo-server.mjs) behind every row.
//
//   HTTP floor · agent (policy off / on, 2025 / 2026-07-28) · Rust mcp-proxy (2025 / 2026-07-28)
//   · npm mcp-proxy · Python mcp-proxy · supergateway   (more rows by id with BENCH_ROWS)
//
// at 1 and 16 concurrent sessions, plus the agent's start-to-ready time and its RSS with
// 1,000 idle sessions. Markdown to stdout, JSON to bench/results/latest.json. See docs/bench.md
// (rows, columns) and docs/benchmarks.md (results). The Rust and Python peers come from
// bench/setup.sh (cached; never run by CI); without them their rows say so.
//
// Environment:
//   BENCH_SECONDS   measured window per cell (default 3)
//   BENCH_SESSIONS  comma list (default 1,16)
//   BENCH_WARMUP    warm-up calls per cell (default 200)
//   BENCH_ROUNDS    repeat the whole sweep; each cell shows its median-req/s round (default 1)
//   BENCH_ROWS      comma list of row ids to run (default all; ids in ROWS below)
//   BENCH_MODERN    0 to leave out the 2026-07-28 rows (default: run them; a 400 marks them skipped)
//   BENCH_EXTRAS    0 to skip start-to-ready and idle-session RSS
//   BENCH_LOAD      child (default: generator in its own process) | inprocess
//   BENCH_AGENT     path of the agent bundle (default dist/agent.js)
//   BENCH_BASELINE  path of another agent bundle (e.g. an older commit's dist/agent.js): its
//                   rows run beside the agent's in the same run (before/after on a noisy machine)
//   BENCH_NODE      image (the Node the images run, from `bench/setup.sh node`) or a node binary:
//                   the whole bench, every Node row and the load generator, runs on it
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { agentPolicyConfig, startAuthFixture, type AuthFixture } from './auth.js';
import { openIdleSessions, runLoad, type LoadResult, type LoadSpec } from './load.js';
import { IMAGE_NODE, peerMissing, PY_MCP_PROXY, RUST_MCP_PROXY, RUST_MCP_PROXY_VERSION, PY_MCP_PROXY_VERSION, rustProxyConfig } from './peers.js';
import { anonRssBytes, cpuSecondsBetween, cpuTicks, processTree, rssBytes, sumRss } from './proc.js';

// BENCH_NODE: run again on that Node, so every Node process of the run (rows, echo server,
// generator) is on the same runtime.
const wantedNode = process.env.BENCH_NODE === 'image' ? IMAGE_NODE : process.env.BENCH_NODE;
if (wantedNode && resolve(wantedNode) !== process.execPath) {
  if (!existsSync(wantedNode)) throw new Error(`BENCH_NODE: ${wantedNode} not found (bash bench/setup.sh node)`);
  const rerun = spawnSync(wantedNode, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(rerun.status ?? 1);
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const resultsDir = join(here, 'results');
const logsDir = join(resultsDir, 'logs');
const ECHO = join(here, 'echo-server.mjs');
const AGENT = resolve(root, process.env.BENCH_AGENT ?? 'dist/agent.js');
const BASELINE = process.env.BENCH_BASELINE ? resolve(root, process.env.BENCH_BASELINE) : undefined;
const MCP_PROXY = join(root, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs');
const SUPERGATEWAY = join(root, 'node_modules/supergateway/dist/index.js');

/** How long the idle agent's CPU is measured, with its 1,000 sessions open (clock ticks are 10 ms). */
const IDLE_CPU_WINDOW_MS = 5000;
const SECONDS = Number(process.env.BENCH_SECONDS) > 0 ? Number(process.env.BENCH_SECONDS) : 3;
const SESSIONS = (process.env.BENCH_SESSIONS ?? '1,16').split(',').map(Number).filter((n) => n > 0);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 1)) || 1);
const ONLY = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((s) => s.trim())) : undefined;
const MODERN = process.env.BENCH_MODERN !== '0';
const EXTRAS = process.env.BENCH_EXTRAS !== '0';
const LOAD_MODE = process.env.BENCH_LOAD === 'inprocess' ? 'inprocess' : 'child';

// ------------------------------------------------------------------ process bookkeeping

const spawned = new Set<ChildProcess>();

/** Kills a server's process group and anything in its tree that left the group. */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const pids = processTree([child.pid]);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* group already gone */
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  spawned.delete(child);
}

function killAll(): void {
  for (const child of [...spawned]) killTree(child);
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping every spawned process\n`);
    killAll();
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  killAll();
  process.exit(1);
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

interface Server {
  child: ChildProcess;
  pid: number;
  url: string;
  log: string;
  /** ms from spawn to ready. */
  readyMs: number;
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Spawns `args` under node in its own process group (stdout+stderr to a log file) and waits until
 * `readyPath` answers (`readyStatus` 200 only, or any HTTP answer when undefined).
 */
async function startServer(
  name: string,
  args: string[],
  port: number,
  readyPath: string,
  strict: boolean,
  timeoutMs = 20_000,
  { exe = process.execPath, mcpPath = '/mcp', env }: { exe?: string; mcpPath?: string; env?: Record<string, string> } = {},
): Promise<Server> {
  mkdirSync(logsDir, { recursive: true });
  const log = join(logsDir, `${name}.log`);
  const fd = openSync(log, 'w');
  const t0 = performance.now();
  const child = spawn(exe, args, { cwd: root, detached: true, stdio: ['pipe', fd, fd], env: env ? { ...process.env, ...env } : process.env });
  closeSync(fd);
  spawned.add(child);
  child.on('error', () => {});
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited (code ${code}, signal ${signal})`));
  const base = `http://127.0.0.1:${port}`;
  const deadline = t0 + timeoutMs;
  for (;;) {
    const status = await httpGet(base + readyPath, 500);
    if (strict ? status === 200 : status > 0) break;
    if (exited || performance.now() > deadline) {
      killTree(child);
      throw new Error(`${name} ${exited ?? `not ready in ${timeoutMs} ms`}${tail(log) ? `; log: ${tail(log)}` : ''}`);
    }
    await sleep(5);
  }
  return { child, pid: child.pid!, url: base + mcpPath, log, readyMs: performance.now() - t0 };
}

// ------------------------------------------------------------------ rows

type Group = 'direct' | 'agent' | 'mcp-proxy' | 'supergateway' | 'rust-mcp-proxy' | 'py-mcp-proxy';

interface Row {
  id: string;
  label: string;
  group: Group;
  protocol: '2025' | 'modern';
  /** Why the row cannot run at all (n/a), checked once. */
  unavailable?: () => string | undefined;
  /** Starts the server for one cell; undefined for direct stdio. */
  start?: (cellName: string, sessions: number) => Promise<Server>;
  headers?: () => Record<string, string>;
  /** The echo tool's name as this server lists it (default `echo`; the Rust proxy prefixes its backend). */
  tool?: string;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Initializes sessions at most this many at a time (servers that spawn a process per session). */
  initConcurrency?: number;
  /** The row the targets are checked on. */
  targets?: boolean;
  /** Checks the server really applies what the row claims; a returned string is shown as a warning. */
  verify?: (server: Server) => Promise<string | undefined>;
}

/** Node options before the agent bundle (not the baseline's): how an A/B of a V8 flag is run. */
const AGENT_NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
const nodeArgsFor = (bundle: string) => (bundle === AGENT ? AGENT_NODE_ARGS : []);
const agentMissing = () => (existsSync(AGENT) ? undefined : `${AGENT.replace(root + '/', '')} not built`);
const echoCmd = [process.execPath, ECHO];

function agentRow(id: string, label: string, mode: 'shared' | 'per-session', extra: Partial<Row> = {}, configFor?: (port: number) => Record<string, unknown>, bundle = AGENT): Row {
  return {
    id,
    label,
    group: 'agent',
    protocol: '2025',
    unavailable: agentMissing,
    start: async (cell, sessions) => {
      const port = await freePort();
      const args = [...nodeArgsFor(bundle), bundle, '--port', String(port), '--session-mode', mode];
      // per-session: let every session have its process (the default cap is 32), as supergateway does
      if (mode === 'per-session') args.push('--max-processes', String(Math.max(32, sessions * 2)));
      if (configFor) {
        const file = join(resultsDir, `${cell}.config.json`);
        writeFileSync(file, JSON.stringify(configFor(port), null, 2));
        args.push('--config', file);
      }
      args.push('--', ...echoCmd);
      return startServer(cell, args, port, '/readyz', true, 20_000, { env: extra.env });
    },
    initConcurrency: mode === 'per-session' ? 8 : undefined,
    ...extra,
  };
}

let auth: AuthFixture | undefined;
const policyRowsUnavailable = () =>
  agentMissing() ??
  (existsSync(join(root, 'api/agent-config.ts')) && existsSync(join(root, 'agent/policy')) ? undefined : 'policy pipeline (agent/policy) not present') ??
  (auth ? undefined : 'auth fixture failed to start');

/** A policy row must refuse a request without a token; otherwise it measures nothing new. */
async function verifyAuthEnforced(server: Server): Promise<string | undefined> {
  const status = await new Promise<number>((resolvePromise) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    const req = http.request(server.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on('error', () => resolvePromise(0));
    req.end(body);
  });
  return status === 401 ? undefined : `NOT ENFORCED: initialize without a token got HTTP ${status}, not 401`;
}

function policyRow(policies: number, protocol: Row['protocol'] = '2025', bundle = AGENT): Row {
  const base = bundle === AGENT ? '' : 'baseline-';
  return agentRow(
    `${base}agent-cedar${policies}${protocol === 'modern' ? '-modern' : ''}`,
    `${base ? 'baseline ' : ''}agent, policy on: JWT + ${policies} Cedar policies + tools filter + audit${protocol === 'modern' ? ', 2026-07-28' : ''}`,
    'shared',
    { protocol, unavailable: bundle === AGENT ? policyRowsUnavailable : () => policyRowsUnavailable() ?? (existsSync(bundle) ? undefined : `${bundle} not found`), headers: () => ({ authorization: `Bearer ${auth!.token}` }), verify: verifyAuthEnforced },
    (port) => agentPolicyConfig(auth!, policies, `http://127.0.0.1:${port}/mcp`),
    bundle,
  );
}

/** The BENCH_BASELINE bundle's agent rows, run beside the agent's. */
function baselineRows(bundle: string): Row[] {
  const missing = () => (existsSync(bundle) ? undefined : `${bundle} not found`);
  return [
    agentRow('baseline-agent-shared', 'baseline agent, policy off', 'shared', { unavailable: missing }, undefined, bundle),
    ...(MODERN ? [agentRow('baseline-agent-shared-modern', 'baseline agent, policy off, 2026-07-28', 'shared', { protocol: 'modern', unavailable: missing }, undefined, bundle)] : []),
    policyRow(200, '2025', bundle),
  ];
}

function rustRow(protocol: Row['protocol']): Row {
  return {
    id: protocol === 'modern' ? 'rust-mcp-proxy-modern' : 'rust-mcp-proxy',
    label: `Rust mcp-proxy ${RUST_MCP_PROXY_VERSION}${protocol === 'modern' ? ', 2026-07-28' : ''}`,
    group: 'rust-mcp-proxy',
    protocol,
    tool: 'echo/echo',
    unavailable: () => peerMissing('rust'),
    start: async (cell) => {
      const port = await freePort();
      const file = join(resultsDir, `${cell}.toml`);
      writeFileSync(file, rustProxyConfig(port, echoCmd[0]!, echoCmd.slice(1)));
      return startServer(cell, ['--config', file], port, '/', false, 20_000, { exe: RUST_MCP_PROXY, mcpPath: '/' });
    },
  };
}

const npmMcpProxyStart = async (cell: string) => {
  const port = await freePort();
  return startServer(cell, [MCP_PROXY, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', ...echoCmd], port, '/mcp', false);
};

const directRow: Row = { id: 'direct', label: 'direct stdio, SDK v1 client (N = N calls in flight on one process)', group: 'direct', protocol: '2025' };
const allRows: Row[] = [
  {
    id: 'http-floor',
    label: 'HTTP floor: bare node:http answering in process (no MCP server)',
    group: 'direct',
    protocol: '2025',
    start: async (cell) => {
      const port = await freePort();
      return startServer(cell, [join(here, 'http-floor.mjs'), '--port', String(port)], port, '/healthz', false);
    },
  },
  agentRow('agent-shared', 'agent, policy off', 'shared', { targets: true }),
  ...(MODERN ? [agentRow('agent-shared-modern', 'agent, policy off, 2026-07-28', 'shared', { protocol: 'modern' })] : []),
  policyRow(200),
  ...(MODERN ? [policyRow(200, 'modern')] : []),
  ...(BASELINE ? baselineRows(BASELINE) : []),
  rustRow('2025'),
  ...(MODERN ? [rustRow('modern')] : []),
  { id: 'mcp-proxy', label: 'npm mcp-proxy (stateful streamable HTTP)', group: 'mcp-proxy', protocol: '2025', start: npmMcpProxyStart },
  {
    id: 'py-mcp-proxy',
    label: `Python mcp-proxy ${PY_MCP_PROXY_VERSION}`,
    group: 'py-mcp-proxy',
    protocol: '2025',
    unavailable: () => peerMissing('python'),
    start: async (cell) => {
      const port = await freePort();
      return startServer(cell, ['--host', '127.0.0.1', '--port', String(port), ...echoCmd], port, '/mcp', false, 30_000, { exe: PY_MCP_PROXY });
    },
  },
  {
    id: 'supergateway',
    label: 'supergateway --stateful (child per session)',
    group: 'supergateway',
    protocol: '2025',
    initConcurrency: 8,
    start: async (cell) => {
      const port = await freePort();
      const args = [SUPERGATEWAY, '--stdio', `${process.execPath} ${ECHO}`, '--outputTransport', 'streamableHttp', '--stateful'];
      args.push('--port', String(port), '--logLevel', 'none', '--healthEndpoint', '/healthz');
      return startServer(cell, args, port, '/healthz', true);
    },
  },
];
/** Rows that run only when BENCH_ROWS names them (diagnostics, not part of the table by default). */
const optionalRows: Row[] = [
  directRow,
  { id: 'direct-raw', label: 'direct stdio, raw line-JSON client (ceiling: no client cost)', group: 'direct', protocol: '2025' },
  agentRow('agent-per-session', 'agent per-session', 'per-session'),
  { id: 'mcp-proxy-modern', label: 'npm mcp-proxy, 2026-07-28 stateless client', group: 'mcp-proxy', protocol: 'modern', start: npmMcpProxyStart },
  policyRow(10),
  agentRow('agent-shared-hono', 'agent, policy off, POST /mcp through Hono (OME_MCP_AGENT_HTTP=hono)', 'shared', { env: { OME_MCP_AGENT_HTTP: 'hono' } }),
  agentRow('agent-shared-noaudit', 'agent shared, audit off (--config audit.enabled: false)', 'shared', {}, () => ({ audit: { enabled: false } })),
];
const ROWS = ONLY ? [...allRows, ...optionalRows].filter((r) => ONLY.has(r.id)) : allRows;

// ------------------------------------------------------------------ cells

interface Cell extends Partial<Omit<LoadResult, 'status'>> {
  row: string;
  sessions: number;
  status: LoadResult['status'] | 'n/a';
  reason?: string;
  serverStartMs?: number;
  warning?: string;
  /** With BENCH_ROUNDS > 1: req/s of every round (the cell shows the median round). */
  roundsRps?: number[];
  /** With BENCH_ROUNDS > 1: CPU µs/call of every round. */
  roundsCpuPerCall?: number[];
}

function runLoadChild(spec: LoadSpec): Promise<LoadResult> {
  if (LOAD_MODE === 'inprocess') return runLoad(spec);
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'load.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    spawned.add(child);
    let result: LoadResult | undefined;
    const watchdog = setTimeout(() => killTree(child), spec.hardTimeoutMs + 15_000);
    child.on('message', (m: LoadResult) => (result = m));
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      spawned.delete(child);
      resolvePromise(result ?? ({ status: 'failed', reason: `load generator exited (code ${code}, signal ${signal}) without a result` } as LoadResult));
    });
    child.send(spec);
  });
}

async function runCell(row: Row, sessions: number): Promise<Cell> {
  const cellName = `${row.id}-${sessions}`;
  const na = row.unavailable?.();
  if (na) return { row: row.id, sessions, status: 'n/a', reason: na };
  const hardTimeoutMs = 60_000 + SECONDS * 1000;
  const base = { sessions, warmupCalls: WARMUP, warmupTimeoutMs: 10_000, seconds: SECONDS, hardTimeoutMs };
  let server: Server | undefined;
  let warning: string | undefined;
  try {
    let spec: LoadSpec;
    if (!row.start) {
      spec = { ...base, kind: row.id === 'direct-raw' ? 'stdio' : 'stdio-sdk', command: echoCmd };
    } else {
      server = await row.start(cellName, sessions);
      warning = await row.verify?.(server);
      spec = { ...base, kind: 'http', url: server.url, protocol: row.protocol, tool: row.tool, headers: row.headers?.(), serverPids: [server.pid], initConcurrency: row.initConcurrency };
    }
    const result = await runLoadChild(spec);
    return { ...result, row: row.id, sessions, serverStartMs: server?.readyMs, warning };
  } catch (err) {
    return { row: row.id, sessions, status: 'failed', reason: (err as Error).message };
  } finally {
    if (server) killTree(server.child);
  }
}

// ------------------------------------------------------------------ extras

interface Extras {
  startToReadyMs?: number[];
  startToReadyMedianMs?: number;
  /** The agent in front of bench/echo-raw.mjs (no SDK import in the server): the agent's own start-up. */
  startToReadyRawMs?: number[];
  startToReadyRawMedianMs?: number;
  /** The same with a config file (what every pod has): the validator's share of a pod's start. */
  startToReadyConfigMedianMs?: number;
  /** Reference: the echo server alone, spawn → initialize response (what the agent waits for). */
  echoStartMs?: number[];
  echoStartMedianMs?: number;
  idle?: { sessions: number; opened: number; idleCpuMsPerSecond: number; agentRssBytes: number; agentRssBeforeBytes: number; agentAnonBytes: number; agentAnonBeforeBytes: number; treeRssBytes: number; firstError?: string };
  reason?: string;
  /** The same for the BENCH_BASELINE bundle. */
  baseline?: Extras;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Spawns the echo server and times spawn → initialize response. */
function echoStartMs(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(echoCmd[0]!, echoCmd.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    spawned.add(child);
    const timer = setTimeout(() => {
      killTree(child);
      reject(new Error('echo server did not answer initialize in 20 s'));
    }, 20_000);
    child.stdout!.once('data', () => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      killTree(child);
      resolvePromise(ms);
    });
    child.stdin!.on('error', () => {});
    child.stdin!.write(
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) + '\n',
    );
  });
}

async function runExtras(bundle: string, echoMs?: number[]): Promise<Extras> {
  const pre = nodeArgsFor(bundle);
  const out: Extras = {};
  try {
    const echo: number[] = echoMs ?? [];
    if (!echoMs) for (let i = 0; i < 5; i++) echo.push(await echoStartMs());
    out.echoStartMs = echo;
    out.echoStartMedianMs = median(echo);
  } catch (err) {
    out.reason = (err as Error).message;
  }
  const na = existsSync(bundle) ? undefined : `${bundle} not found`;
  if (na) return { ...out, reason: na };
  try {
    /** Five fresh starts of the agent (its flags, then its server's command): spawn → /readyz 200, ms. */
    const readyTimes = async (name: string, flags: string[], server: string[]): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const port = await freePort();
        const s = await startServer(`${name}-${i}`, [...pre, bundle, ...flags, '--port', String(port), '--', ...server], port, '/readyz', true);
        times.push(s.readyMs);
        killTree(s.child);
        await sleep(100);
      }
      return times;
    };
    const echoRaw = [process.execPath, join(here, 'echo-raw.mjs')];
    out.startToReadyMs = await readyTimes('agent-ready', [], echoCmd);
    out.startToReadyMedianMs = median(out.startToReadyMs);
    out.startToReadyRawMs = await readyTimes('agent-ready-raw', [], echoRaw);
    out.startToReadyRawMedianMs = median(out.startToReadyRawMs);
    // As a pod starts it: every pod's agent reads a config file, which loads the validator.
    const configFile = join(resultsDir, 'agent-ready-config.json');
    writeFileSync(configFile, JSON.stringify({ audit: { enabled: true } }));
    out.startToReadyConfigMedianMs = median(await readyTimes('agent-ready-config', ['--config', configFile], echoRaw));

    const port = await freePort();
    const s = await startServer('agent-idle-1000', [...pre, bundle, '--port', String(port), '--', ...echoCmd], port, '/readyz', true);
    try {
      const agentRssBeforeBytes = rssBytes(s.pid);
      const agentAnonBeforeBytes = anonRssBytes(s.pid);
      const opened = await openIdleSessions(s.url, 1000, 16);
      await sleep(1000);
      const agentRssBytes = rssBytes(s.pid);
      const agentAnonBytes = anonRssBytes(s.pid);
      const treeRssBytes = sumRss(processTree([s.pid]));
      // Then what the agent burns with those sessions open and no traffic: its timers.
      const cpuBefore = cpuTicks([s.pid]);
      await sleep(IDLE_CPU_WINDOW_MS);
      const idleCpuMsPerSecond = (cpuSecondsBetween(cpuBefore, cpuTicks([s.pid])) * 1000) / (IDLE_CPU_WINDOW_MS / 1000);
      out.idle = {
        sessions: 1000,
        opened: opened.ok,
        idleCpuMsPerSecond,
        agentRssBytes,
        agentRssBeforeBytes,
        agentAnonBytes,
        agentAnonBeforeBytes,
        treeRssBytes,
        firstError: opened.firstError,
      };
    } finally {
      killTree(s.child);
    }
  } catch (err) {
    out.reason = (err as Error).message;
  }
  return out;
}

// ------------------------------------------------------------------ report

const fmtInt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtMB = (b: number | undefined) => (b === undefined || !b ? '–' : (b / 1024 / 1024).toFixed(0));
const fmtX = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? '–' : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

interface Derived {
  cpuPerCall?: number;
  /** req/s over the Rust mcp-proxy row of the same protocol (2025 when that one did not run). */
  vsRust?: number;
  vsNpmMcpProxy?: number;
  /** CPU µs/call over the HTTP floor's. */
  cpuVsFloor?: number;
  /** `pass` undefined: information, not a target. */
  targets: { name: string; value: string; pass?: boolean }[];
}

const cpuPerCallOf = (c: Cell) => (c.requests ? (c.serverCpuSeconds! / c.requests) * 1e6 : NaN);
/** The bridge process's own share (its MCP server's excluded); the floor has no server behind it. */
const bridgeCpuPerCallOf = (c: Cell) => (c.requests && c.bridgeCpuSeconds !== undefined ? (c.bridgeCpuSeconds / c.requests) * 1e6 : NaN);

function derive(cells: Cell[]): Map<Cell, Derived> {
  const find = (id: string, n: number) => cells.find((c) => c.row === id && c.sessions === n && c.status === 'ok');
  const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
  const out = new Map<Cell, Derived>();
  for (const c of cells) {
    const d: Derived = { targets: [] };
    out.set(c, d);
    if (c.status !== 'ok') continue;
    const row = ROWS.find((r) => r.id === c.row)!;
    const n = c.sessions;
    d.cpuPerCall = cpuPerCallOf(c);
    const floor = find('http-floor', n);
    if (floor && row.id !== 'http-floor') d.cpuVsFloor = d.cpuPerCall / cpuPerCallOf(floor);
    const rust = (row.protocol === 'modern' ? find('rust-mcp-proxy-modern', n) : undefined) ?? find('rust-mcp-proxy', n);
    if (rust && row.group !== 'rust-mcp-proxy') d.vsRust = c.rps! / rust.rps!;
    const npm = find('mcp-proxy', n);
    if (npm && row.id !== 'mcp-proxy') d.vsNpmMcpProxy = c.rps! / npm.rps!;
    const t = (name: string, value: string, pass: boolean) => d.targets.push({ name, value, pass });
    if (row.targets && n === 16) {
      t('CPU ≤ 85 µs', `${fmtInt(d.cpuPerCall)} µs`, d.cpuPerCall <= 85);
      if (d.vsRust !== undefined) t('≥ 1.5× Rust', fmtX(d.vsRust), d.vsRust >= 1.5);
      if (d.vsNpmMcpProxy !== undefined) t('≥ 5× npm mcp-proxy', fmtX(d.vsNpmMcpProxy), d.vsNpmMcpProxy >= 5);
      t('p99 ≤ 10 ms', `${fmtMs(c.latencyMs!.p99)} ms`, c.latencyMs!.p99 <= 10);
    }
    if (row.targets && n === 1 && rust) t('p50 ≤ Rust', `${fmtMs(c.latencyMs!.p50)} vs ${fmtMs(rust.latencyMs!.p50)} ms`, c.latencyMs!.p50 <= rust.latencyMs!.p50);
    // policy on against policy off, 2026-07-28 against 2025, same session count
    const off = find(row.protocol === 'modern' ? 'agent-shared-modern' : 'agent-shared', n);
    if (row.id.startsWith('agent-cedar200') && off) t('≥ 90% of policy off', pct(c.rps! / off.rps!), c.rps! / off.rps! >= 0.9);
    const legacy = row.id === 'agent-shared-modern' ? find('agent-shared', n) : row.id === 'agent-cedar200-modern' ? find('agent-cedar200', n) : undefined;
    if (legacy) t('within 5% of 2025', pct(c.rps! / legacy.rps!), c.rps! / legacy.rps! >= 0.95);
    const baseline = BASELINE && row.group === 'agent' && !row.id.startsWith('baseline-') ? find(`baseline-${row.id}`, n) : undefined;
    if (baseline) d.targets.push({ name: 'vs baseline', value: `req/s ${pct(c.rps! / baseline.rps!)}, CPU/call ${pct(d.cpuPerCall / cpuPerCallOf(baseline))}` });
  }
  return out;
}

function report(cells: Cell[], extras: Extras, meta: Record<string, unknown>): string {
  const derived = derive(cells);
  const lines: string[] = [];
  lines.push(`### ome-mcp bench — ${meta.date} — ${meta.cpus} CPUs, load avg ${meta.loadavg}, ${SECONDS} s per cell${ROUNDS > 1 ? `, ${ROUNDS} rounds (median round shown, req/s range in parentheses)` : ''}, node ${process.version}, load generator: ${LOAD_MODE === 'child' ? 'separate process' : 'in process'}`);
  lines.push('');
  lines.push('| path | sessions | req/s | p50 ms | p99 ms | CPU µs/call | bridge’s own µs/call | RSS MB (procs) | × Rust req/s | × npm mcp-proxy req/s | CPU × floor | errors | targets |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const n of SESSIONS) {
    for (const row of ROWS) {
      const c = cells.find((x) => x.row === row.id && x.sessions === n);
      if (!c) continue;
      if (c.status !== 'ok') {
        const why = c.status === 'n/a' ? c.reason : `${c.status}: ${(c.reason ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 160)}`;
        lines.push(`| ${row.label} | ${n} | – | | | | | | | | | | ${why} |`);
        continue;
      }
      const d = derived.get(c)!;
      const targets = [...d.targets.map((t) => `${t.name}: ${t.value}${t.pass === undefined ? '' : ` ${verdict(t.pass)}`}`), ...(c.warning ? [c.warning] : [])].join('; ');
      lines.push(
        `| ${row.label} | ${n} | ${fmtInt(c.rps)}${c.roundsRps ? ` (${fmtInt(Math.min(...c.roundsRps.filter(Number.isFinite)))}–${fmtInt(Math.max(...c.roundsRps.filter(Number.isFinite)))})` : ''} | ${fmtMs(c.latencyMs!.p50)} | ${fmtMs(c.latencyMs!.p99)} | ${fmtInt(d.cpuPerCall)} | ${fmtInt(bridgeCpuPerCallOf(c))} | ${fmtMB(c.serverRssBytes)} (${c.serverProcesses}) | ${fmtX(d.vsRust)} | ${fmtX(d.vsNpmMcpProxy)} | ${fmtX(d.cpuVsFloor)} | ${c.errors ?? 0} | ${targets} |`,
      );
    }
  }
  const extrasSets: Array<[string, Extras]> = EXTRAS ? [['', extras], ...(extras.baseline ? ([['baseline ', extras.baseline]] as Array<[string, Extras]>) : [])] : [];
  for (const [prefix, ex] of extrasSets) {
    const extras = ex;
    if (extras.startToReadyMedianMs !== undefined) {
      const m = extras.startToReadyMedianMs;
      const echo = extras.echoStartMedianMs;
      const share = echo !== undefined ? m - echo : undefined;
      lines.push(
        `| ${prefix}agent start → /readyz 200 (median of 5: ${extras.startToReadyMs!.map((x) => x.toFixed(0)).join(', ')} ms) | – | | ${fmtMs(m)} ms | | | | | | | | | ≤ 250 ms: ${verdict(m <= 250)} |`,
      );
      if (share !== undefined) {
        const raw = extras.startToReadyRawMedianMs;
        lines.push(
          `| ${prefix}agent's own share: that minus the echo server's spawn → initialize answered (${fmtMs(echo)} ms)${raw !== undefined ? `; the agent before a dependency-free server (bench/echo-raw.mjs): ${fmtMs(raw)} ms` : ''}${extras.startToReadyConfigMedianMs !== undefined ? `, with a config file as in a pod: ${fmtMs(extras.startToReadyConfigMedianMs)} ms` : ''} | – | | ${fmtMs(share)} ms | | | | | | | | | ≤ 100 ms: ${verdict(share <= 100)} |`,
        );
      }
    }
    if (extras.idle) {
      const i = extras.idle;
      const ok = i.opened === i.sessions;
      lines.push(
        `| ${prefix}agent, ${i.opened.toLocaleString('en-US')} idle sessions: agent process RSS (${fmtMB(i.agentRssBeforeBytes)} MB before them, ${fmtInt((i.agentRssBytes - i.agentRssBeforeBytes) / 1024 / Math.max(1, i.opened))} KB/session; of it private (RssAnon) ${fmtMB(i.agentAnonBeforeBytes)} → ${fmtMB(i.agentAnonBytes)} MB, the rest the node executable's shared pages; tree incl. echo server ${fmtMB(i.treeRssBytes)} MB; idle CPU ${i.idleCpuMsPerSecond.toFixed(1)} ms a second) | ${i.sessions} | | | | | | ${fmtMB(i.agentRssBytes)} | | | | ${i.sessions - i.opened} | ≤ 60 MB: ${verdict(ok && i.agentRssBytes <= 60 * 1024 * 1024)}${i.firstError ? `; first error: ${i.firstError.slice(0, 100)}` : ''} |`,
      );
    }
    if (extras.reason) lines.push(`| ${prefix}agent start-to-ready / idle sessions | | – | | | | | | | | | | ${extras.reason.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 200)} |`);
  }
  lines.push('');
  const shares = cells.filter((c) => c.status === 'ok' && c.windowSeconds).map((c) => c.loadCpuSeconds! / c.windowSeconds!);
  if (shares.length > 0) {
    lines.push(
      `Load generator (${LOAD_MODE === 'child' ? 'its own process' : 'in the runner'}): ${Math.round(Math.min(...shares) * 100)}–${Math.round(Math.max(...shares) * 100)}% of one core during the windows; it shares the ${meta.cpus} CPUs with the servers.`,
    );
  }
  lines.push(
    'CPU µs/call: utime+stime of the server-side process tree (the bridge and the echo server behind it; the load generator is never counted) over the window, per completed call; the bridge’s own: its process alone, without the echo server (the bridges’ children). ' +
      'RSS: summed VmRSS of that tree, max over the window. Ratios are over the named row at the same session count, same run (× Rust: the 2026-07-28 Rust row for 2026-07-28 rows). ' +
      'Targets: on "agent, policy off" (16 sessions: CPU, × Rust, × npm, p99; 1 session: p50), on policy-on rows (against policy off) and 2026-07-28 agent rows (against 2025).',
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/**
 * Two runs at once on two cores would measure each other: wait for a run that holds the lock
 * (bench/results/.lock with its pid; a stale lock of a dead pid is taken over).
 */
async function takeLock(): Promise<void> {
  const lock = join(resultsDir, '.lock');
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      process.on('exit', () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) rmSync(lock);
        } catch {
          /* gone */
        }
      });
      return;
    } catch {
      const holder = Number(readFileSync(lock, 'utf8').trim() || 0);
      let alive = false;
      try {
        if (holder > 0) alive = (process.kill(holder, 0), true);
      } catch {
        alive = false;
      }
      if (!alive) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!told) process.stderr.write(`bench: another bench run (pid ${holder}) is measuring; waiting for it to finish\n`);
      told = true;
      await sleep(2000);
    }
  }
}

async function main(): Promise<void> {
  mkdirSync(logsDir, { recursive: true });
  await takeLock();
  if (ROWS.some((r) => r.id.startsWith('agent-cedar'))) {
    auth = await startAuthFixture().catch((err: Error) => {
      process.stderr.write(`bench: auth fixture: ${err.message}\n`);
      return undefined;
    });
  }
  const meta = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    node: process.version,
    seconds: SECONDS,
    rounds: ROUNDS,
    warmupCalls: WARMUP,
    loadGenerator: LOAD_MODE,
    versions: { sdk: versionOf('@modelcontextprotocol/sdk'), 'mcp-proxy': versionOf('mcp-proxy'), supergateway: versionOf('supergateway'), 'rust mcp-proxy': RUST_MCP_PROXY_VERSION, 'python mcp-proxy': PY_MCP_PROXY_VERSION },
  };
  const cells: Cell[] = [];
  // Interleave: every row at 1 session, then every row at 16, … so rows compared in a column ran
  // close together in time (the machine's background load drifts).
  const all: Cell[][] = ROWS.flatMap(() => SESSIONS.map(() => []));
  const slot = (r: number, s: number) => all[r * SESSIONS.length + s]!;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [s, n] of SESSIONS.entries()) {
      for (const [r, row] of ROWS.entries()) {
        if (slot(r, s).some((c) => c.status === 'n/a')) continue; // the same in every round
        process.stderr.write(`bench: ${ROUNDS > 1 ? `round ${round}/${ROUNDS}: ` : ''}${row.id} × ${n} … `);
        const c = await runCell(row, n);
        slot(r, s).push(c);
        process.stderr.write(
          c.status === 'ok' ? `${fmtInt(c.rps)} req/s, p50 ${fmtMs(c.latencyMs!.p50)} ms, p99 ${fmtMs(c.latencyMs!.p99)} ms${c.errors ? `, ${c.errors} errors (${c.firstError})` : ''}\n` : `${c.status}: ${c.reason}\n`,
        );
        await sleep(200);
      }
    }
  }
  // Per cell, the round with the median req/s stands for the cell; all rounds' req/s stay beside it.
  for (const runs of all) {
    if (runs.length === 0) continue;
    const ok = runs.filter((c) => c.status === 'ok').sort((a, b) => a.rps! - b.rps!);
    if (ok.length === 0) {
      cells.push(runs[runs.length - 1]!);
      continue;
    }
    const chosen = ok[(ok.length - 1) >> 1]!;
    cells.push(ROUNDS > 1 ? { ...chosen, roundsRps: runs.map((c) => (c.status === 'ok' ? c.rps! : NaN)), roundsCpuPerCall: runs.map((c) => (c.status === 'ok' ? cpuPerCallOf(c) : NaN)) } : chosen);
  }
  let extras: Extras = {};
  if (EXTRAS) {
    process.stderr.write('bench: agent start-to-ready and 1,000 idle sessions …\n');
    extras = await runExtras(AGENT);
    if (BASELINE) extras.baseline = await runExtras(BASELINE, extras.echoStartMs);
  }
  const derived = derive(cells);
  const table = report(cells, extras, meta);
  process.stdout.write(table + '\n');
  writeFileSync(
    join(resultsDir, 'latest.json'),
    JSON.stringify({ meta: { ...meta, finished: new Date().toISOString() }, rows: ROWS.map(({ id, label, group, protocol }) => ({ id, label, group, protocol })), cells: cells.map((c) => ({ ...c, derived: derived.get(c) })), extras, table }, null, 2) + '\n',
  );
  await auth?.close();
  killAll();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    killAll();
    process.exit(1);
  },
);
