import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { startAgent, type AgentPolicy, type RunningAgent } from '../../agent/agent.js';
import { parseOptions } from '../../agent/config/options.js';

// Node 20 has no global WebSocket; the SDK's WebSocket client transport expects one.
globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket;

export const PROBE = ['node', 'test/fixtures/probe-server.mjs'];
export const EVERYTHING = ['node', 'node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];

/**
 * Starts an agent in-process on a free loopback port. `args` are CLI flags (with `--` and a
 * command; policy sections come with `--config <file>`); `policy` replaces the pipeline outright.
 */
export async function startTestAgent(args: string[], policy?: AgentPolicy, env: NodeJS.ProcessEnv = {}, waitReady = true): Promise<RunningAgent> {
  const options = await parseOptions(['--port', '0', ...args], env);
  const logger = pino({ level: process.env.AGENT_LOG_LEVEL ?? 'silent' });
  const agent = await startAgent(options, logger, policy);
  if (waitReady) await waitFor(async () => (await fetch(agent.url.replace('/mcp', '/readyz'))).status === 200, 15_000);
  return agent;
}

export type TransportKind = 'streamable-http' | 'sse' | 'websocket';

export async function connectClient(
  agent: RunningAgent,
  kind: TransportKind = 'streamable-http',
  capabilities: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<Client> {
  const client = new Client({ name: `test-${kind}`, version: '1.0.0' }, { capabilities });
  const base = agent.url.replace(/\/mcp$/, '');
  const requestInit = headers ? { headers } : undefined;
  const transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL(`${base}/sse`), { requestInit, eventSourceInit: headers ? { fetch: (u, i) => fetch(u, { ...i, headers: { ...(i?.headers as object), ...headers } }) } : undefined })
      : kind === 'websocket'
        ? new WebSocketClientTransport(new URL(`${base.replace(/^http/, 'ws')}/ws`))
        : new StreamableHTTPClientTransport(new URL(agent.url), { requestInit });
  await client.connect(transport);
  return client;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content;
  return content?.map((c) => c.text ?? '').join('') ?? '';
}

/** Raw streamable HTTP: a session opened with plain fetch, for cases the SDK client won't produce. */
export class RawSession {
  sessionId = '';
  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {}

  static async open(url: string, headers: Record<string, string> = {}, protocolVersion = '2025-06-18'): Promise<RawSession> {
    const s = new RawSession(url, headers);
    const res = await s.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    if (res.status !== 200) throw new Error(`initialize failed: ${res.status} ${await res.text()}`);
    s.sessionId = res.headers.get('mcp-session-id') ?? '';
    await res.text();
    await (await s.post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
    return s;
  }

  post(body: unknown, extra: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
        ...this.headers,
        ...extra,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async call(id: number | string, name: string, args: Record<string, unknown>): Promise<any> {
    const res = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    return parseBody(res);
  }
}

/** A JSON body, or the last `data:` message of an SSE body. */
export async function parseBody(res: Response): Promise<any> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const messages = text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => JSON.parse(l.slice(6)));
    return messages[messages.length - 1];
  }
  return text ? JSON.parse(text) : undefined;
}

/** Raw WebSocket session (subprotocol `mcp`): frames in, parsed messages out, for hand-made frames. */
export class RawSocket {
  private readonly inbox: any[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(agent: RunningAgent, capabilities: Record<string, unknown> = {}): Promise<RawSocket> {
    const ws = new WebSocket(`${agent.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws')}`, 'mcp');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const s = new RawSocket(ws);
    s.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw-ws', version: '1' } } });
    await s.next((m) => m.id === 'init');
    s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return s;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (received or to come) that matches, removed from the inbox. */
  async next(match: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i !== -1) return this.inbox.splice(i, 1)[0];
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** A directory laid out like a ConfigMap volume: agent.json → ..data/agent.json → ..<version>/agent.json. */
export class ConfigMapDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-reload-'));
  private version = 0;
  constructor(config: object) {
    this.write(config);
    symlinkSync('..data/agent.json', join(this.dir, 'agent.json'));
  }
  get file(): string {
    return join(this.dir, 'agent.json');
  }
  write(config: object | string): void {
    const v = `..v${++this.version}`;
    mkdirSync(join(this.dir, v));
    writeFileSync(join(this.dir, v, 'agent.json'), typeof config === 'string' ? config : JSON.stringify(config));
    symlinkSync(v, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

