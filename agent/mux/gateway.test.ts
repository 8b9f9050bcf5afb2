import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, type JsonRpcNotification, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import type { ClientSession } from './client-session.js';
import { principalNamed, type Principal } from '../core/principal.js';
import { Refusal } from '../protocol/refusal.js';
import { Gateway, type GatewayPolicy } from './gateway.js';
import { PerSessionPool, SharedPool } from './pools.js';
import { RecordingChannel, ScriptedServer, silentLogger, upstreamFor } from './testing.js';

const init = (id: number | string = 0, protocolVersion = '2025-06-18'): JsonRpcRequest => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } },
});

/** A session the gateway must open (a refusal fails the test). */
async function opened(gateway: Gateway, caller: Principal, request: JsonRpcRequest) {
  const r = await gateway.initialize(caller, request);
  if (r instanceof Refusal) throw new Error(`refused: ${r.message}`);
  return r;
}

const gateways: Gateway[] = [];
async function shared(policy?: GatewayPolicy, maxSessions = 10): Promise<{ gateway: Gateway; server: ScriptedServer }> {
  const server = new ScriptedServer();
  const upstream = upstreamFor(server);
  await upstream.start();
  const gateway = new Gateway({ pool: new SharedPool(upstream), policy, logger: silentLogger, sessionIdleTimeoutMs: 60_000, maxSessions, readyTimeoutMs: 1000 });
  gateways.push(gateway);
  return { gateway, server };
}
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
});

describe('Gateway', () => {
  it("answers initialize from the server's cached result with the negotiated version, without asking the server", async () => {
    const { gateway, server } = await shared();
    const before = server.received.length;
    const { session, frame } = await opened(gateway, principalNamed('alice'), init(7, '2025-06-18'));
    expect(JSON.parse(frame)).toEqual({ jsonrpc: '2.0', id: 7, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'scripted', version: '1' } } });
    expect(server.received.length).toBe(before);
    expect(session.capabilities).toEqual({ sampling: {} });
    expect(gateway.sessionCount).toBe(1);
    const unknown = await opened(gateway, principalNamed('alice'), init(8, '1999-01-01'));
    expect(JSON.parse(unknown.frame).result.protocolVersion).toMatch(/^20\d\d-/); // the latest the agent speaks
  });

  it('binds a session to its principal: another caller gets nothing for its id', async () => {
    const { gateway } = await shared();
    const { session } = await opened(gateway, principalNamed('alice'), init());
    expect(gateway.lookup(session.id, principalNamed('mallory'))).toBeUndefined();
    expect(gateway.lookup(session.id, principalNamed('alice'))).toBe(session);
    expect(gateway.lookup('no-such-session', principalNamed('alice'))).toBeUndefined();
  });

  it('refuses sessions beyond the limit and while draining, with 503', async () => {
    const { gateway } = await shared(undefined, 1);
    await opened(gateway, principalNamed('a'), init());
    await expect(gateway.initialize(principalNamed('a'), init())).resolves.toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    gateway.startDraining();
    expect(gateway.ready).toBe(false);
    await expect(gateway.initialize(principalNamed('a'), init())).resolves.toBeInstanceOf(Refusal);
  });

  it('dispatches requests, notifications and replies, and refuses a second initialize', async () => {
    const { gateway, server } = await shared();
    const { session } = await opened(gateway, principalNamed('a'), init());
    const ch = new RecordingChannel();
    expect(gateway.dispatch(session, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }, ch)).toBeNull();
    expect(server.sent('tools/call')).toHaveLength(1);
    expect(gateway.dispatch(session, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, undefined)).toBeNull();
    expect(server.sent('notifications/roots/list_changed')).toHaveLength(1);
    expect(gateway.dispatch(session, init(), ch)).toMatchObject({ status: 400 });
    expect(() => gateway.dispatch(session, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, undefined)).toThrow(/response channel/);
  });

  it('runs the policy on every message, takes a limit slot per request and releases it with the response', async () => {
    const checked: string[] = [];
    let held = 0;
    const policy: GatewayPolicy = {
      checkMessage: (_s: ClientSession, m: JsonRpcRequest | JsonRpcNotification) => {
        checked.push(m.method);
        return m.method === 'tools/call' && m.params?.name === 'forbidden' ? new Refusal(403, ErrorCode.Forbidden, 'Forbidden') : null;
      },
      admit: () => (held >= 1 ? new Refusal(429, ErrorCode.RateLimited, 'slow down', { 'Retry-After': '1' }) : (held++, () => void held--)),
      transformResult: (_s, method, r) => (method === 'initialize' ? { ...r, instructions: 'filtered' } : r),
    };
    const { gateway, server } = await shared(policy);
    const { session, frame } = await opened(gateway, principalNamed('a'), init());
    expect(JSON.parse(frame).result.instructions).toBe('filtered');
    expect(gateway.dispatch(session, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'forbidden' } }, new RecordingChannel())).toMatchObject({ status: 403 });
    const ch = new RecordingChannel();
    expect(gateway.dispatch(session, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'ok' } }, ch)).toBeNull();
    expect(gateway.dispatch(session, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'ok' } }, new RecordingChannel())).toMatchObject({ status: 429 });
    const u = server.sent('tools/call')[0]!;
    server.say({ jsonrpc: '2.0', id: u.id, result: {} });
    expect(ch.responses[0]).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    expect(held).toBe(0);
    expect(checked).toEqual(['initialize', 'tools/call', 'tools/call', 'tools/call']);
  });

  it("rewrites a result the policy filters (serialized again) and forwards an untouched one as the server's bytes", async () => {
    const policy: GatewayPolicy = {
      checkMessage: () => null,
      admit: () => () => {},
      transformResult: (_s, method, r) => (method === 'tools/list' ? { tools: (r.tools as Array<{ name: string }>).filter((t) => t.name !== 'secret') } : r),
    };
    const { gateway, server } = await shared(policy);
    const { session } = await opened(gateway, principalNamed('a'), init());
    const ch = new RecordingChannel();
    gateway.dispatch(session, { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, ch);
    gateway.dispatch(session, { jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'echo' } }, ch);
    const [list, call] = [server.sent('tools/list').at(-1)!, server.sent('tools/call')[0]!];
    const listRaw = `{"result":{"tools":[{"name":"echo"},{"name":"secret"}]},"jsonrpc":"2.0","id":${list.id}}`;
    const callRaw = `{"result":{"content":[]},"jsonrpc":"2.0","id":${call.id}}`;
    server.say(JSON.parse(listRaw), listRaw);
    server.say(JSON.parse(callRaw), callRaw);
    expect(ch.responses[0]).toEqual({ jsonrpc: '2.0', id: 'l', result: { tools: [{ name: 'echo' }] } });
    expect(ch.frames[1]).toBe('{"result":{"content":[]},"jsonrpc":"2.0","id":"c"}');
  });

  it('ends a session: its cleanups run, its calls are cancelled, later dispatches find no session', async () => {
    const { gateway, server } = await shared();
    const { session } = await opened(gateway, principalNamed('a'), init());
    let cleaned = 0;
    gateway.onSessionEnd(session, () => cleaned++);
    const ch = new RecordingChannel();
    gateway.dispatch(session, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } }, ch);
    expect(gateway.inFlight()).toBe(1);
    gateway.end(session);
    gateway.end(session);
    expect(cleaned).toBe(1);
    expect(session.closed).toBe(true);
    expect(ch.abandoned).toBe(1);
    expect(server.sent('notifications/cancelled')).toHaveLength(1);
    expect(gateway.dispatch(session, { jsonrpc: '2.0', id: 2, method: 'ping' }, ch)).toMatchObject({ status: 404 });
    expect(gateway.sessionCount).toBe(0);
  });
});

describe('PerSessionPool', () => {
  it('starts a server per session up to the bound and stops it with the session', async () => {
    const servers: ScriptedServer[] = [];
    const pool = new PerSessionPool(() => {
      const s = new ScriptedServer();
      servers.push(s);
      return upstreamFor(s);
    }, 2);
    const gateway = new Gateway({ pool, logger: silentLogger, sessionIdleTimeoutMs: 60_000, maxSessions: 10, readyTimeoutMs: 1000 });
    gateways.push(gateway);
    const a = await opened(gateway, principalNamed('a'), init());
    await opened(gateway, principalNamed('b'), init());
    expect(servers).toHaveLength(2);
    await expect(gateway.initialize(principalNamed('c'), init())).resolves.toMatchObject({ status: 503 });
    expect(pool.detail).toBe('per-session: 2/2 server processes');
    gateway.end(a.session);
    await opened(gateway, principalNamed('c'), init());
    expect(servers).toHaveLength(3);
  });
});
