import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { principalNamed } from '../core/principal.js';
import { ClientSession } from './client-session.js';
import { RecordingChannel, ScriptedServer, sessionOf, upstreamFor } from './testing.js';
import { UpstreamSession, withId } from './upstream-session.js';

/** A server that answers initialize and nothing else. */
class SilentServer implements UpstreamTransport {
  readonly description = 'silent test server';
  onmessage?: (message: JsonRpcMessage) => void;
  start = async () => {};
  close = async () => {};
  send(frame: string): void {
    const m = JSON.parse(frame) as { id?: number; method?: string };
    if (m.method !== 'initialize') return;
    queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: m.id!, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'silent', version: '1' } } }));
  }
}

const opened: UpstreamSession[] = [];
async function started(server = new ScriptedServer(), hooks?: Parameters<typeof upstreamFor>[1]): Promise<{ server: ScriptedServer; upstream: UpstreamSession }> {
  const upstream = upstreamFor(server, hooks);
  opened.push(upstream);
  await upstream.start();
  return { server, upstream };
}
afterEach(async () => {
  for (const u of opened.splice(0)) await u.stop();
});

const call = (id: number | string, name = 'echo', extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name, arguments: {}, ...extra } });

describe('UpstreamSession', () => {
  it('logs a request timeout at warn with the method, upstream id and session', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const upstream = new UpstreamSession({
      connect: () => new SilentServer(),
      logger: pino({ level: 'warn' }, sink),
      clientInfo: { name: 't', version: '1' },
      capabilities: {},
      requestTimeoutMs: 100,
      initializeTimeoutMs: 1000,
      restartMinDelayMs: 10,
      restartMaxDelayMs: 10,
    });
    await upstream.start();
    const session = new ClientSession('session-1', principalNamed('k'), '2025-11-25', {}, {});
    upstream.attach(session);
    const answered = new Promise<string>((respond) => upstream.request(session, { jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'x' } }, { respond, related: () => {}, abandon: () => {} }));
    expect(JSON.parse(await answered).error.code).toBe(-32002);
    const line = lines.find((l) => l.level === 40 && l.method === 'tools/call');
    expect(line).toMatchObject({ method: 'tools/call', upstreamId: expect.any(Number), session: 'session-1', timeoutMs: 100 });
    await upstream.stop();
  });

  it('initializes the server once, then says notifications/initialized', async () => {
    const { server, upstream } = await started();
    expect(upstream.state).toBe('ready');
    expect(upstream.initializeResult).toMatchObject({ serverInfo: { name: 'scripted' } });
    expect(server.sent('notifications/initialized')).toHaveLength(1);
  });

  it('gives two sessions using the same request id distinct upstream ids and routes each answer back with its own id', async () => {
    const { server, upstream } = await started();
    const [a, b] = [sessionOf('a'), sessionOf('b')];
    upstream.attach(a);
    upstream.attach(b);
    const [ca, cb] = [new RecordingChannel(), new RecordingChannel()];
    upstream.request(a, call(1, 'x'), ca);
    upstream.request(b, call(1, 'y'), cb);
    const [ua, ub] = server.sent('tools/call');
    expect(ua!.id).not.toBe(ub!.id);
    expect(upstream.inFlight).toBe(2);
    server.say({ jsonrpc: '2.0', id: ub!.id, result: { content: [{ type: 'text', text: 'for b' }] } });
    server.say({ jsonrpc: '2.0', id: ua!.id, result: { content: [{ type: 'text', text: 'for a' }] } });
    expect(ca.responses).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'for a' }] } }]);
    expect(cb.responses).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'for b' }] } }]);
    expect(upstream.inFlight).toBe(0);
  });

  it("leaves the caller's request with its own id (a transport cancels by it later)", async () => {
    const { server, upstream } = await started();
    const s = sessionOf();
    upstream.attach(s);
    const request = call('client-1');
    upstream.request(s, request, new RecordingChannel());
    expect(request.id).toBe('client-1');
    upstream.notify(s, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: request.id } });
    expect(server.sent('notifications/cancelled')[0]!.params.requestId).toBe(server.sent('tools/call')[0]!.id);
  });

  it("forwards the server's own bytes with the client's id written in when the id is last, else serializes", async () => {
    const { server, upstream } = await started();
    const s = sessionOf();
    upstream.attach(s);
    const ch = new RecordingChannel();
    upstream.request(s, call('req-7'), ch);
    upstream.request(s, call(8), ch);
    const [u1, u2] = server.sent('tools/call');
    const raw1 = `{"result":{"content":[{"type":"text","text":"id \\"x\\":1}"}]},"jsonrpc":"2.0","id":${u1!.id}}`;
    server.say(JSON.parse(raw1), raw1);
    expect(ch.frames[0]).toBe(`{"result":{"content":[{"type":"text","text":"id \\"x\\":1}"}]},"jsonrpc":"2.0","id":"req-7"}`);
    const raw2 = `{"jsonrpc":"2.0","id":${u2!.id},"result":{"n":1}}`; // id not last: serialized again
    server.say(JSON.parse(raw2), raw2);
    expect(JSON.parse(ch.frames[1]!)).toEqual({ jsonrpc: '2.0', id: 8, result: { n: 1 } });
  });

  it('hands the channel the parsed response with the frame', async () => {
    const { server, upstream } = await started();
    const s = sessionOf();
    upstream.attach(s);
    const seen: unknown[] = [];
    upstream.request(s, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { respond: (_f, m) => void seen.push(m), related: () => {}, abandon: () => {} });
    const u = server.sent('tools/list').at(-1)!;
    const raw = `{"result":{"tools":[]},"jsonrpc":"2.0","id":${u.id}}`;
    server.say(JSON.parse(raw), raw);
    expect(seen).toEqual([{ result: { tools: [] }, jsonrpc: '2.0', id: 3 }]);
  });

  it("remaps a progress token to the upstream id and restores the client's on progress", async () => {
    const { server, upstream } = await started();
    const s = sessionOf();
    upstream.attach(s);
    const ch = new RecordingChannel();
    upstream.request(s, call(1, 'slow', { _meta: { progressToken: 'tok' } }), ch);
    const u = server.sent('tools/call')[0]!;
    expect(u.params._meta.progressToken).toBe(u.id);
    server.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: u.id, progress: 1, total: 2 } });
    expect(ch.relatedFrames).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok', progress: 1, total: 2 } }]);
  });

  it('answers ping itself and keeps the most verbose log level any session asked for upstream', async () => {
    const { server, upstream } = await started();
    const [a, b] = [sessionOf('a'), sessionOf('b')];
    upstream.attach(a);
    upstream.attach(b);
    const ch = new RecordingChannel();
    upstream.request(a, { jsonrpc: '2.0', id: 1, method: 'ping' }, ch);
    expect(ch.responses[0]).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    expect(server.sent('ping')).toHaveLength(0);
    upstream.request(a, { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'error' } }, ch);
    upstream.request(b, { jsonrpc: '2.0', id: 3, method: 'logging/setLevel', params: { level: 'debug' } }, ch);
    upstream.request(b, { jsonrpc: '2.0', id: 4, method: 'logging/setLevel', params: { level: 'loud' } }, ch);
    expect(server.sent('logging/setLevel').map((m) => m.params.level)).toEqual(['error', 'debug']);
    expect(ch.responses.at(-1)!.error.code).toBe(-32602);
    // each session hears the server's log messages at its own level
    const [sa, sb] = [new RecordingChannel(), new RecordingChannel()];
    a.sink = { deliver: (f) => sa.related(f) };
    b.sink = { deliver: (f) => sb.related(f) };
    server.say({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
    expect(sa.relatedFrames).toHaveLength(0);
    expect(sb.relatedFrames).toHaveLength(1);
  });

  it('reference-counts resource subscriptions and delivers updates to subscribers only', async () => {
    const { server, upstream } = await started();
    const [a, b, c] = [sessionOf('a'), sessionOf('b'), sessionOf('c')];
    const heard = new Map<ClientSession, number>();
    for (const s of [a, b, c]) {
      upstream.attach(s);
      s.sink = { deliver: () => void heard.set(s, (heard.get(s) ?? 0) + 1) };
    }
    const ch = new RecordingChannel();
    const sub = (s: ClientSession, method: string) => upstream.request(s, { jsonrpc: '2.0', id: 1, method, params: { uri: 'file:///x' } }, ch);
    sub(a, 'resources/subscribe');
    sub(b, 'resources/subscribe');
    expect(server.sent('resources/subscribe')).toHaveLength(1);
    server.say({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///x' } });
    expect([heard.get(a), heard.get(b), heard.get(c)]).toEqual([1, 1, undefined]);
    sub(a, 'resources/unsubscribe');
    expect(server.sent('resources/unsubscribe')).toHaveLength(0);
    upstream.detach(b); // a session that ends releases its subscriptions
    expect(server.sent('resources/unsubscribe')).toHaveLength(1);
  });

  it("cancels upstream with the upstream id when the client cancels, and ignores another session's cancel", async () => {
    const { server, upstream } = await started();
    const [a, b] = [sessionOf('a'), sessionOf('b')];
    upstream.attach(a);
    upstream.attach(b);
    const ch = new RecordingChannel();
    upstream.request(a, call(5), ch);
    const u = server.sent('tools/call')[0]!;
    upstream.notify(b, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } });
    expect(server.sent('notifications/cancelled')).toHaveLength(0);
    upstream.notify(a, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5, reason: 'user' } });
    expect(server.sent('notifications/cancelled')).toEqual([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: u.id, reason: 'user' } }]);
    expect(ch.abandoned).toBe(1);
    server.say({ jsonrpc: '2.0', id: u.id, result: {} }); // a late answer goes nowhere
    expect(ch.responses).toHaveLength(0);
  });

  it('routes concurrent server→client requests to in-flight calls in order, oldest first, capable sessions only', async () => {
    const { server, upstream } = await started();
    const incapable = sessionOf('n');
    const sessions = [sessionOf('a', { sampling: {} }), sessionOf('b', { sampling: {} }), sessionOf('c', { sampling: {} })];
    const channels = sessions.map(() => new RecordingChannel());
    upstream.attach(incapable);
    upstream.request(incapable, call(1, 'ask'), new RecordingChannel());
    sessions.forEach((s, i) => {
      upstream.attach(s);
      upstream.request(s, call(1, 'ask'), channels[i]!);
    });
    for (let i = 0; i < 3; i++) server.say({ jsonrpc: '2.0', id: `srv-${i}`, method: 'sampling/createMessage', params: {} });
    expect(channels.map((c) => c.relatedFrames.map((f) => f.id))).toEqual([['srv-0'], ['srv-1'], ['srv-2']]);
    // only the session it was routed to may answer
    upstream.reply(sessions[1]!, { jsonrpc: '2.0', id: 'srv-0', result: {} });
    expect(server.received.filter((m) => m.id === 'srv-0')).toHaveLength(0);
    upstream.reply(sessions[0]!, { jsonrpc: '2.0', id: 'srv-0', result: { ok: 1 } });
    expect(server.received.filter((m) => m.id === 'srv-0')).toEqual([{ jsonrpc: '2.0', id: 'srv-0', result: { ok: 1 } }]);
  });

  it('answers a server request no client can handle with method not found, and a server ping itself', async () => {
    const { server, upstream } = await started();
    const s = sessionOf('a');
    upstream.attach(s);
    server.say({ jsonrpc: '2.0', id: 'e1', method: 'elicitation/create', params: {} });
    server.say({ jsonrpc: '2.0', id: 'p1', method: 'ping' });
    expect(server.received.find((m) => m.id === 'e1')!.error.code).toBe(-32601);
    expect(server.received.find((m) => m.id === 'p1')).toEqual({ jsonrpc: '2.0', id: 'p1', result: {} });
  });

  it('cancels the calls of a session that ends, and fails all calls when the server goes away', async () => {
    const { server, upstream } = await started();
    const [a, b] = [sessionOf('a'), sessionOf('b')];
    upstream.attach(a);
    upstream.attach(b);
    const [ca, cb] = [new RecordingChannel(), new RecordingChannel()];
    upstream.request(a, call(1), ca);
    upstream.request(b, call(1), cb);
    upstream.detach(a);
    expect(ca.abandoned).toBe(1);
    expect(server.sent('notifications/cancelled')).toHaveLength(1);
    server.onclose?.('server exited (code 1)');
    expect(cb.responses[0]!.error.code).toBe(-32001);
    expect(upstream.state).toBe('restarting');
  });

  it('broadcasts list_changed to every session', async () => {
    const { server, upstream } = await started();
    const heard: string[] = [];
    for (const key of ['a', 'b']) {
      const s = sessionOf(key);
      s.sink = { deliver: () => void heard.push(key) };
      upstream.attach(s);
    }
    server.say({ jsonrpc: '2.0', method: 'notifications/prompts/list_changed' });
    expect(heard).toEqual(['a', 'b']);
  });
});

describe('withId', () => {
  it('writes the client id over a trailing upstream id only', () => {
    expect(withId('{"result":{},"jsonrpc":"2.0","id":17}', 17, 'a"b')).toBe('{"result":{},"jsonrpc":"2.0","id":"a\\"b"}');
    expect(withId('{"result":{},"jsonrpc":"2.0","id":17}', 7, 1)).toBeUndefined();
    expect(withId('{"result":{"id":17}}', 17, 1)).toBeUndefined();
    expect(withId('{"jsonrpc":"2.0","id":17,"result":{}}', 17, 1)).toBeUndefined();
  });
});
