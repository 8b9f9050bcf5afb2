// Load generator for `npm run bench`. One cell = N sessions, each a loop of sequential
// `tools/call echo` requests; warm-up (by call count, bounded by time), then a measured window of
// `seconds`, bounded by a hard timeout.
//
// - HTTP (streamable HTTP, 2025-06-18): one keep-alive connection per session (a node:http Agent
//   with maxSockets 1), POST initialize → Mcp-Session-Id, POST notifications/initialized, then
//   the calls. Responses may be JSON or SSE; both are parsed, and the echoed text is checked so a
//   misrouted response counts as an error.
// - HTTP, 2026-07-28 ("modern"): no initialize; every call is a self-contained POST with the
//   MCP-Protocol-Version/Mcp-Method/Mcp-Name headers and the `_meta` envelope. A 400 on the first
//   call marks the cell `skipped` (the server does not speak the revision).
// - stdio: spawns the server and speaks line-delimited JSON-RPC to it; "N sessions" = N calls in
//   flight on the one process.
//
// Runs in-process (`runLoad`) or as a child process (`node --import tsx bench/load.ts`, spec over
// IPC), which keeps the generator's CPU in its own process so the OS can put it on the other core.
// It samples the server's process tree (RSS, CPU) itself, so the window boundaries are exact.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { cpuSecondsBetween, cpuTicks, processTree, sumRss } from './proc.js';

export const PROTOCOL_2025 = '2025-06-18';
export const PROTOCOL_MODERN = '2026-07-28';

export interface LoadSpec {
  /** stdio: raw line-JSON client; stdio-sdk: the v1 SDK's Client + StdioClientTransport. */
  kind: 'http' | 'stdio' | 'stdio-sdk';
  /** http: full URL of the MCP endpoint, e.g. http://127.0.0.1:8080/mcp */
  url?: string;
  /** http: '2025' (initialize + Mcp-Session-Id) or 'modern' (stateless 2026-07-28 POSTs). */
  protocol?: '2025' | 'modern';
  /** http: the echo tool's name as the server lists it (default `echo`). */
  tool?: string;
  /** http: extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** stdio: the server command. */
  command?: string[];
  sessions: number;
  /** Calls (all sessions together) before the window opens. */
  warmupCalls: number;
  /** Upper bound on the warm-up, ms. */
  warmupTimeoutMs: number;
  /** Length of the measured window, s. */
  seconds: number;
  /** Whole cell (initialize, warm-up, window, drain) must finish in this many ms. */
  hardTimeoutMs: number;
  /** http: roots of the server-side process trees to sample (stdio samples the server it spawns). */
  serverPids?: number[];
  /** How many sessions initialize at once (per-process servers spawn a child per initialize). */
  initConcurrency?: number;
}

export interface LoadResult {
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  sessions: number;
  /** Calls completed inside the window. */
  requests: number;
  errors: number;
  firstError?: string;
  windowSeconds: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Max over samples taken during the window of the summed VmRSS of the server trees. */
  serverRssBytes: number;
  serverProcesses: number;
  /** utime+stime of the server trees over the window. */
  serverCpuSeconds: number;
  /** The same for the trees' roots only: the bridge itself, without the MCP server behind it. */
  bridgeCpuSeconds: number;
  /** CPU the generator itself used over the window (user+system). */
  loadCpuSeconds: number;
  /** Time to initialize all sessions, ms. */
  initMs: number;
  warmupCalls: number;
}

class SkipError extends Error {}

// ------------------------------------------------------------------ session transports

interface Session {
  /** One echo call; resolves when the echoed text came back, rejects otherwise. */
  call(text: string): Promise<void>;
  close(): void;
}

const sessionHeaders2025 = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': PROTOCOL_2025,
};

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string, timeoutMs = 30_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC response with `id` from a JSON or SSE body. */
export function findResponse(reply: HttpReply, id: number | string): Record<string, unknown> {
  const type = String(reply.headers['content-type'] ?? '');
  const candidates: unknown[] = [];
  if (type.includes('text/event-stream')) {
    let data: string[] = [];
    const flush = () => {
      if (data.length > 0) candidates.push(JSON.parse(data.join('\n')));
      data = [];
    };
    for (const raw of reply.body.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') flush();
      else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
    flush();
  } else {
    const parsed: unknown = JSON.parse(reply.body);
    if (Array.isArray(parsed)) candidates.push(...parsed);
    else candidates.push(parsed);
  }
  for (const c of candidates) {
    if (c && typeof c === 'object' && (c as { id?: unknown }).id === id) return c as Record<string, unknown>;
  }
  throw new Error(`no response with id ${String(id)} in ${type || 'body'}: ${reply.body.slice(0, 200)}`);
}

function checkEcho(msg: Record<string, unknown>, text: string): void {
  if (msg.error) throw new Error(`JSON-RPC error: ${JSON.stringify(msg.error).slice(0, 200)}`);
  const result = msg.result as { content?: { text?: string }[]; isError?: boolean } | undefined;
  if (result?.isError) throw new Error(`tool error: ${JSON.stringify(result).slice(0, 200)}`);
  const got = result?.content?.[0]?.text;
  if (got !== text) throw new Error(`echo mismatch: sent ${JSON.stringify(text)}, got ${JSON.stringify(got)}`);
}

const clientInfo = { name: 'ome-mcp-bench', version: '1.0.0' };

async function openHttpSession(spec: LoadSpec): Promise<Session> {
  const url = new URL(spec.url!);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const extra = spec.headers ?? {};
  const tool = spec.tool ?? 'echo';
  let nextId = 1;

  if (spec.protocol === 'modern') {
    const headers = {
      ...extra,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    };
    let first = true;
    return {
      async call(text) {
        const id = nextId++;
        const body = JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: tool,
            arguments: { text },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': PROTOCOL_MODERN,
              'io.modelcontextprotocol/clientInfo': clientInfo,
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        });
        const reply = await post(agent, url, headers, body);
        if (reply.status === 400 && first) throw new SkipError(`server answered 400 to a ${PROTOCOL_MODERN} request: ${reply.body.slice(0, 200)}`);
        first = false;
        if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
        checkEcho(findResponse(reply, id), text);
      },
      close: () => agent.destroy(),
    };
  }

  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_2025, capabilities: {}, clientInfo },
  });
  const reply = await post(agent, url, { ...extra, ...sessionHeaders2025 }, init);
  if (reply.status !== 200) throw new Error(`initialize: HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
  const initMsg = findResponse(reply, 0);
  if (initMsg.error) throw new Error(`initialize: ${JSON.stringify(initMsg.error)}`);
  const sid = reply.headers['mcp-session-id'];
  const headers: Record<string, string> = { ...extra, ...sessionHeaders2025 };
  if (typeof sid === 'string') headers['mcp-session-id'] = sid;
  const note = await post(agent, url, headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  if (note.status !== 202 && note.status !== 200) throw new Error(`notifications/initialized: HTTP ${note.status}: ${note.body.slice(0, 200)}`);
  return {
    async call(text) {
      const id = nextId++;
      const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { text } } });
      const r = await post(agent, url, headers, body);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      checkEcho(findResponse(r, id), text);
    },
    close: () => agent.destroy(),
  };
}

/** A line-JSON stdio client: the one process, shared by all "sessions". */
class StdioClient {
  readonly child: ChildProcess;
  private buf = '';
  private nextId = 1;
  private pending = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  constructor(command: string[]) {
    this.child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`server exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
    this.child.stdin!.on('error', () => {});
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const id = msg.id;
      if (typeof id === 'number' && ('result' in msg || 'error' in msg)) {
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          p.resolve(msg);
        }
      }
    }
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  notify(method: string): void {
    this.child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n');
  }

  async initialize(): Promise<void> {
    const r = await this.request('initialize', { protocolVersion: PROTOCOL_2025, capabilities: {}, clientInfo });
    if (r.error) throw new Error(`initialize: ${JSON.stringify(r.error)}`);
    this.notify('notifications/initialized');
  }

  session(): Session {
    return {
      call: async (text) => checkEcho(await this.request('tools/call', { name: 'echo', arguments: { text } }), text),
      close: () => {},
    };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The v1 SDK stdio client: one Client (one process), shared by all "sessions". */
async function openSdkStdio(command: string[]): Promise<{ client: Client; pid: number; session: () => Session }> {
  const transport = new StdioClientTransport({ command: command[0]!, args: command.slice(1), stderr: 'inherit' });
  const client = new Client(clientInfo, { capabilities: {} });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error('SDK stdio transport has no pid');
  return {
    client,
    pid,
    session: () => ({
      call: async (text) => {
        const result = (await client.callTool({ name: 'echo', arguments: { text } })) as { content?: { text?: string }[]; isError?: boolean };
        checkEcho({ result }, text);
      },
      close: () => {},
    }),
  };
}

// ------------------------------------------------------------------ the cell

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const empty: LoadResult = {
    status: 'failed',
    sessions: spec.sessions,
    requests: 0,
    errors: 0,
    windowSeconds: 0,
    rps: 0,
    latencyMs: { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN },
    serverRssBytes: 0,
    serverProcesses: 0,
    serverCpuSeconds: 0,
    bridgeCpuSeconds: 0,
    loadCpuSeconds: 0,
    initMs: 0,
    warmupCalls: 0,
  };
  const deadline = performance.now() + spec.hardTimeoutMs;
  let stdio: StdioClient | undefined;
  let sdk: Client | undefined;
  const sessions: Session[] = [];
  try {
    const t0 = performance.now();
    let roots: number[];
    if (spec.kind === 'stdio') {
      stdio = new StdioClient(spec.command!);
      await withDeadline(stdio.initialize(), deadline, 'initialize');
      for (let i = 0; i < spec.sessions; i++) sessions.push(stdio.session());
      roots = [stdio.child.pid!];
    } else if (spec.kind === 'stdio-sdk') {
      const opened = await withDeadline(openSdkStdio(spec.command!), deadline, 'initialize');
      sdk = opened.client;
      for (let i = 0; i < spec.sessions; i++) sessions.push(opened.session());
      roots = [opened.pid];
    } else {
      const opened = await withDeadline(
        pool(spec.sessions, spec.initConcurrency ?? spec.sessions, () => openHttpSession(spec)),
        deadline,
        'initialize',
      );
      sessions.push(...opened);
      roots = spec.serverPids ?? [];
    }
    const initMs = performance.now() - t0;

    // Every session loops until `stop`; completions inside [windowStart, windowEnd] are recorded.
    let stop = false;
    let completed = 0;
    let errors = 0;
    let firstError: string | undefined;
    let skip: string | undefined;
    let windowStart = Infinity;
    let windowEnd = Infinity;
    const latencies: number[] = [];
    let onProgress: (() => void) | undefined;

    const loop = async (s: Session, index: number) => {
      let n = 0;
      while (!stop) {
        const text = `s${index}-${n++}`;
        const start = performance.now();
        try {
          await s.call(text);
        } catch (err) {
          if (err instanceof SkipError) {
            skip ??= err.message;
            stop = true;
            break;
          }
          errors++;
          firstError ??= (err as Error).message;
          if (errors > 50 && errors > completed) stop = true; // the server is broken, not slow
          await sleep(1);
          continue;
        }
        const end = performance.now();
        completed++;
        if (end >= windowStart && end <= windowEnd) latencies.push(end - start);
        onProgress?.();
      }
    };
    const loops = sessions.map((s, i) => loop(s, i));

    // warm-up: by count, bounded by time
    const warmupDeadline = Math.min(performance.now() + spec.warmupTimeoutMs, deadline);
    await new Promise<void>((resolve) => {
      const done = () => {
        if (completed >= spec.warmupCalls || stop || performance.now() >= warmupDeadline) {
          onProgress = undefined;
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(done, 20);
      onProgress = done;
    });
    const warmupCalls = completed;
    if (skip) {
      stop = true;
      await Promise.allSettled(loops);
      return { ...empty, status: 'skipped', reason: skip, initMs };
    }

    // measured window
    let pids = processTree(roots);
    const cpuBefore = cpuTicks(pids);
    const loadBefore = process.cpuUsage();
    let rss = sumRss(pids);
    const errorsBefore = errors;
    windowStart = performance.now();
    const windowMs = Math.min(spec.seconds * 1000, Math.max(0, deadline - windowStart - 2000));
    const sampler = setInterval(() => (rss = Math.max(rss, sumRss(pids))), 500);
    await sleep(windowMs);
    windowEnd = performance.now();
    clearInterval(sampler);
    const loadUsage = process.cpuUsage(loadBefore);
    pids = processTree(roots);
    const cpuAfter = cpuTicks(pids);
    rss = Math.max(rss, sumRss(pids));
    const windowErrors = errors - errorsBefore;

    stop = true;
    await withDeadline(Promise.allSettled(loops), deadline, 'drain').catch(() => {});

    const windowSeconds = (windowEnd - windowStart) / 1000;
    const sorted = Float64Array.from(latencies).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      status: sorted.length > 0 ? 'ok' : 'failed',
      reason: sorted.length > 0 ? undefined : (firstError ?? 'no call completed in the window'),
      sessions: spec.sessions,
      requests: sorted.length,
      errors: windowErrors,
      firstError,
      windowSeconds,
      rps: sorted.length / windowSeconds,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : NaN,
        mean: sorted.length ? sum / sorted.length : NaN,
      },
      serverRssBytes: rss,
      serverProcesses: pids.length,
      serverCpuSeconds: cpuSecondsBetween(cpuBefore, cpuAfter),
      bridgeCpuSeconds: cpuSecondsBetween(cpuBefore, new Map(roots.filter((pid) => cpuAfter.has(pid)).map((pid) => [pid, cpuAfter.get(pid)!]))),
      loadCpuSeconds: (loadUsage.user + loadUsage.system) / 1e6,
      initMs,
      warmupCalls,
    };
  } catch (err) {
    return { ...empty, status: err instanceof SkipError ? 'skipped' : 'failed', reason: (err as Error).message };
  } finally {
    for (const s of sessions) s.close();
    stdio?.kill();
    await sdk?.close().catch(() => {});
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  const ms = Math.max(0, deadline - performance.now());
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: cell hard timeout`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Initializes `count` 2025 sessions (then leaves them idle); returns how many succeeded. */
export async function openIdleSessions(url: string, count: number, concurrency: number, headers?: Record<string, string>): Promise<{ ok: number; firstError?: string }> {
  const target = new URL(url);
  const agents = Array.from({ length: concurrency }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  let ok = 0;
  let firstError: string | undefined;
  await pool(count, concurrency, async (i) => {
    const agent = agents[i % concurrency]!;
    try {
      const reply = await post(agent, target, { ...headers, ...sessionHeaders2025 }, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_2025, capabilities: {}, clientInfo } }));
      if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
      findResponse(reply, 0);
      const sid = reply.headers['mcp-session-id'];
      if (typeof sid !== 'string') throw new Error('no Mcp-Session-Id');
      const note = await post(agent, target, { ...headers, ...sessionHeaders2025, 'mcp-session-id': sid }, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      if (note.status !== 202 && note.status !== 200) throw new Error(`notifications/initialized: HTTP ${note.status}`);
      ok++;
    } catch (err) {
      firstError ??= (err as Error).message;
    }
  });
  for (const a of agents) a.destroy();
  return { ok, firstError };
}

// ------------------------------------------------------------------ child-process entry

if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('disconnect', () => process.exit(0)); // the runner went away: don't linger
  process.once('message', (spec: LoadSpec) => {
    runLoad(spec).then(
      (result) => process.send!(result, () => process.exit(0)),
      (err: Error) => process.send!({ status: 'failed', reason: err.message }, () => process.exit(1)),
    );
  });
}
