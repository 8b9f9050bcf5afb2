import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, parseBody, PROBE, RawSession, startTestAgent, textOf, waitFor } from './harness.js';

describe('shared upstream: many sessions on one server', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('keeps concurrent calls with identical JSON-RPC ids apart', async () => {
    const sessions = await Promise.all(Array.from({ length: 8 }, () => RawSession.open(agent.url)));
    const rounds = await Promise.all(
      sessions.flatMap((s, i) => Array.from({ length: 5 }, (_, k) => s.call(1, 'echo', { text: `s${i}-${k}` }).then((r) => ({ i, k, r })))),
    );
    for (const { i, k, r } of rounds) {
      expect(r.id).toBe(1);
      expect(r.result.content[0].text).toBe(`s${i}-${k}`);
    }
  });

  it('forwards notifications/cancelled with the remapped id', async () => {
    const s = await RawSession.open(agent.url);
    const pending = s.post({ jsonrpc: '2.0', id: 'slow-1', method: 'tools/call', params: { name: 'sleep', arguments: { ms: 5000 } } });
    await new Promise((r) => setTimeout(r, 100));
    const cancel = await s.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow-1', reason: 'test' } });
    expect(cancel.status).toBe(202);
    const res = await pending;
    expect(res.status).toBe(204); // cancelled requests get no JSON-RPC response
    const seen = JSON.parse((await s.call(2, 'cancelled', {})).result.content[0].text) as string[];
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain('slow-1'); // the server saw the agent's id, not the client's
  });

  it('another session cannot cancel or answer for a session', async () => {
    const a = await RawSession.open(agent.url);
    const b = await RawSession.open(agent.url);
    const pending = a.call('x', 'sleep', { ms: 300 });
    await new Promise((r) => setTimeout(r, 50));
    await b.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x' } });
    const r = await pending;
    expect(r.result.content[0].text).toBe('slept 300');
  });

  it('ends a session on DELETE and answers 404 afterwards', async () => {
    const s = await RawSession.open(agent.url);
    const del = await fetch(agent.url, { method: 'DELETE', headers: { 'mcp-session-id': s.sessionId } });
    expect(del.status).toBe(204);
    const after = await s.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(after.status).toBe(404);
  });

  it('resumes a GET stream with Last-Event-ID', async () => {
    const s = await RawSession.open(agent.url, {}, '2025-11-25');
    const controller = new AbortController();
    const get = await fetch(agent.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId }, signal: controller.signal });
    expect(get.headers.get('content-type')).toContain('text/event-stream');
    const reader = get.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const priming = /id: (\S+)\nretry: \d+\ndata: \n/.exec(first);
    expect(priming).not.toBeNull();
    controller.abort();
    await new Promise((r) => setTimeout(r, 50));
    // While disconnected, the server announces a list change; the event is buffered.
    await s.call(3, 'touch', { uri: 'probe://x' });
    const resumed = await fetch(agent.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': s.sessionId, 'last-event-id': priming![1]! } });
    const r2 = resumed.body!.getReader();
    let text = '';
    const until = Date.now() + 3000;
    while (!text.includes('list_changed') && Date.now() < until) text += new TextDecoder().decode((await r2.read()).value);
    expect(text).toContain('notifications/tools/list_changed');
    await r2.cancel();
  });

  it('streams progress over SSE only when the request needs it, JSON otherwise', async () => {
    const s = await RawSession.open(agent.url);
    const plain = await s.post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    expect(plain.headers.get('content-type')).toContain('application/json');
    await plain.text();
    const withProgress = await s.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'progress', arguments: { steps: 2 }, _meta: { progressToken: 'tok' } } });
    expect(withProgress.headers.get('content-type')).toContain('text/event-stream');
    const text = await withProgress.text();
    expect(text).toContain('"progressToken":"tok"');
    expect(text).toContain('done 2');
  });

  it('answers ping and logging/setLevel itself', async () => {
    const s = await RawSession.open(agent.url);
    expect(await parseBody(await s.post({ jsonrpc: '2.0', id: 1, method: 'ping' }))).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    const bad = await parseBody(await s.post({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'loud' } }));
    expect(bad.error.code).toBe(-32602);
  });

  it('counts requests and sessions in /metrics', async () => {
    const client = await connectClient(agent);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'm' } }))).toBe('m');
    const text = await (await fetch(agent.url.replace('/mcp', '/metrics'))).text();
    expect(text).toMatch(/ome_mcp_requests_total\{method="tools\/call",outcome="ok"\} \d+/);
    expect(text).toMatch(/ome_mcp_sessions \d+/);
    expect(text).toContain('ome_mcp_request_duration_seconds_bucket');
    await client.close();
  });
});

describe('per-session mode', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--session-mode', 'per-session', '--max-processes', '2', '--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('gives each session its own server process, bounded', async () => {
    const a = await connectClient(agent);
    const b = await connectClient(agent);
    // Each server saw only its own subscription calls.
    await a.subscribeResource({ uri: 'probe://a' });
    expect(textOf(await b.callTool({ name: 'subscriptions', arguments: {} }))).toBe('[]');
    expect(textOf(await a.callTool({ name: 'subscriptions', arguments: {} }))).toBe('["+probe://a"]');
    const third = await fetch(agent.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(third.status).toBe(503);
    await (a.transport as { terminateSession?: () => Promise<void> }).terminateSession?.();
    await a.close();
    await waitFor(async () => {
      const r = await RawSession.open(agent.url).catch(() => undefined);
      return r !== undefined;
    }, 5000);
    await b.close();
  });
});
