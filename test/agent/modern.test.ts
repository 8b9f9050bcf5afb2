// 2026-07-28 clients on the agent's /mcp endpoint, in front of a 2025-era (v1 SDK) stdio server.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPolicy, RunningAgent } from '../../agent/agent.js';
import { principalNamed } from '../../agent/core/principal.js';
import { ErrorCode } from '../../agent/protocol/jsonrpc.js';
import { Refusal } from '../../agent/protocol/refusal.js';
import { connectClient, parseBody, PROBE, startTestAgent, textOf, waitFor } from './harness.js';
import { modernPost, modernRequest, v2Client } from './modern-harness.js';

describe('2026-07-28 clients, 2025-era shared stdio server', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(async () => {
    await agent?.stop(1000);
  });

  it('v2 client in auto mode negotiates 2026-07-28 and calls tools', async () => {
    const client = await v2Client(agent);
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(textOf(result)).toBe('hi');
    await client.close();
    expect(agent.gateway.sessionCount).toBe(0);
  });

  it('sampling through input-required: the retry completes the held call', async () => {
    const client = await v2Client(agent, { sampling: {} }, 'pin');
    client.setRequestHandler('sampling/createMessage', async (request) => ({
      role: 'assistant',
      content: { type: 'text', text: `sampled: ${(request.params.messages[0]!.content as { text: string }).text}` },
      model: 'm',
    }));
    const result = await client.callTool({ name: 'ask', arguments: { prompt: 'q' } });
    expect(textOf(result)).toBe('sampled: q');
    await client.close();
  });

  it('raw: header/body mismatch, missing headers, unknown version', async () => {
    const body = modernRequest(1, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    let res = await modernPost(agent.url, body, { 'mcp-name': 'other' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32020);
    res = await modernPost(agent.url, body, { 'mcp-method': undefined });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32020);
    res = await modernPost(agent.url, body, { 'mcp-protocol-version': undefined });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32020);
    res = await modernPost(agent.url, body, { 'mcp-protocol-version': '2099-01-01' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32020); // header and body disagree
    const future = modernRequest(1, 'tools/call', { name: 'echo', arguments: { text: 'x' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } });
    res = await modernPost(agent.url, future, { 'mcp-protocol-version': '2099-01-01' });
    expect(res.status).toBe(400);
    const err = (await res.json()).error;
    expect(err.code).toBe(-32022);
    expect(err.data.supported).toContain('2026-07-28');
    res = await modernPost(agent.url, body);
    expect(res.status).toBe(200);
    const ok = await res.json();
    expect(ok.result.resultType).toBe('complete');
    expect(ok.result.content[0].text).toBe('x');
  });

  it.runIf(existsSync('.venv/bin/python'))('Python SDK client in auto mode: 2026-07-28, sampling through input-required', async () => {
    const { stdout } = await promisify(execFile)('.venv/bin/python', ['test/fixtures/py_modern_client.py', agent.url], { timeout: 30_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ era: 'modern', version: '2026-07-28', text: 'py-modern', rounds: 1, sampled: 'from-python' });
  });

  it('legacy v1 clients keep working on the same endpoint', async () => {
    const client = await connectClient(agent);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'old' } });
    expect(textOf(result)).toBe('old');
    await client.close();
  });

  it('v2 client: elicitation and roots through input-required; v2 client in legacy mode on the same endpoint', async () => {
    const client = await v2Client(agent, { elicitation: {}, roots: {} });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: true } }));
    client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///v2' }] }));
    expect(textOf(await client.callTool({ name: 'confirm', arguments: { question: 'sure?' } }))).toBe('ok=true');
    expect(textOf(await client.callTool({ name: 'roots' }))).toBe('file:///v2');
    await client.close();
    const legacy = new ClientV2({ name: 'v2-legacy', version: '1' }, { capabilities: {} });
    await legacy.connect(new TransportV2(new URL(agent.url)));
    expect(legacy.getNegotiatedProtocolVersion()).not.toBe('2026-07-28');
    expect(textOf(await legacy.callTool({ name: 'echo', arguments: { text: 'v2-legacy' } }))).toBe('v2-legacy');
    await legacy.close();
  });

  it('concurrent requests with identical ids stay apart', async () => {
    const sessions = agent.gateway.sessionCount;
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'echo', arguments: { text: `n${i}` } })).then((r) => r.json())),
    );
    results.forEach((r, i) => {
      expect(r.id).toBe(1);
      expect(r.result.content[0].text).toBe(`n${i}`);
    });
    await waitFor(() => agent.gateway.sessionCount === sessions, 2000); // per-request sessions end with the request
  });

  it('progress streams on the request (SSE, X-Accel-Buffering: no) with the client token', async () => {
    const res = await modernPost(agent.url, modernRequest('p1', 'tools/call', { name: 'progress', arguments: { steps: 3 }, _meta: { progressToken: 'tok' } }));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const text = await res.text();
    const messages = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(messages.filter((m) => m.method === 'notifications/progress').map((m) => [m.params.progressToken, m.params.progress])).toEqual([['tok', 1], ['tok', 2], ['tok', 3]]);
    expect(messages.at(-1)).toMatchObject({ id: 'p1', result: { resultType: 'complete' } });
    expect(text).not.toMatch(/^id:/m); // no resumability in this revision
  });

  it('closing the response cancels the call: the server hears notifications/cancelled', async () => {
    const before = JSON.parse((await parseBody(await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'cancelled', arguments: {} })))).result.content[0].text).length;
    const controller = new AbortController();
    const res = fetch(agent.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'sleep' },
      body: JSON.stringify(modernRequest(6, 'tools/call', { name: 'sleep', arguments: { ms: 10_000 } })),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    controller.abort();
    await res;
    await waitFor(async () => {
      const now = JSON.parse((await parseBody(await modernPost(agent.url, modernRequest(2, 'tools/call', { name: 'cancelled', arguments: {} })))).result.content[0].text);
      return now.length > before;
    }, 5000);
  });

  it('raw input-required round trip: state is signed, bound to the request, single use', async () => {
    const first = await (await modernPost(agent.url, modernRequest(10, 'tools/call', { name: 'ask', arguments: { prompt: 'raw' } }, { sampling: {} }))).json();
    expect(first.id).toBe(10);
    expect(first.result.resultType).toBe('input_required');
    const [key, input] = Object.entries(first.result.inputRequests as Record<string, { method: string; params: any }>)[0]!;
    expect(input.method).toBe('sampling/createMessage');
    expect(input.params.messages[0].content.text).toBe('raw');
    const state = first.result.requestState as string;
    const answer = { role: 'assistant', model: 'm', content: { type: 'text', text: 'raw-answer' } };
    // Tampered state, and state presented on another request, are refused.
    const tampered = await (await modernPost(agent.url, modernRequest(11, 'tools/call', { name: 'ask', arguments: { prompt: 'raw' }, requestState: `${state.slice(0, -2)}xx`, inputResponses: { [key]: answer } }, { sampling: {} }))).json();
    expect(tampered.error.code).toBe(-32602);
    const wrongTool = await (await modernPost(agent.url, modernRequest(12, 'tools/call', { name: 'echo', arguments: { text: 'x' }, requestState: state, inputResponses: { [key]: answer } }, { sampling: {} }))).json();
    expect(wrongTool.error.code).toBe(-32602);
    // The retry answers the held server request and gets the original call's result under its own id.
    const done = await (await modernPost(agent.url, modernRequest(13, 'tools/call', { name: 'ask', arguments: { prompt: 'raw' }, requestState: state, inputResponses: { [key]: answer } }, { sampling: {} }))).json();
    expect(done).toMatchObject({ id: 13, result: { resultType: 'complete', content: [{ text: 'raw-answer' }] } });
    const replay = await (await modernPost(agent.url, modernRequest(14, 'tools/call', { name: 'ask', arguments: { prompt: 'raw' }, requestState: state, inputResponses: { [key]: answer } }, { sampling: {} }))).json();
    expect(replay.error.code).toBe(-32602);
  });

  it('a retry without the answers is asked again; a client without the capability is never asked', async () => {
    const first = await (await modernPost(agent.url, modernRequest(20, 'tools/call', { name: 'roots', arguments: {} }, { roots: {} }))).json();
    const again = await (await modernPost(agent.url, modernRequest(21, 'tools/call', { name: 'roots', arguments: {}, requestState: first.result.requestState, inputResponses: {} }, { roots: {} }))).json();
    expect(again.result.resultType).toBe('input_required');
    const key = Object.keys(again.result.inputRequests)[0]!;
    const done = await (await modernPost(agent.url, modernRequest(22, 'tools/call', { name: 'roots', arguments: {}, requestState: again.result.requestState, inputResponses: { [key]: { roots: [{ uri: 'file:///raw' }] } } }, { roots: {} }))).json();
    expect(done.result.content[0].text).toBe('file:///raw');
    const incapable = await (await modernPost(agent.url, modernRequest(23, 'tools/call', { name: 'ask', arguments: { prompt: 'x' } }, {}))).json();
    expect(incapable.result.isError ?? incapable.error).toBeTruthy();
  });

  it('server/discover, subscriptions/listen and removed methods', async () => {
    const sessions = agent.gateway.sessionCount;
    const discover = await (await modernPost(agent.url, modernRequest('d', 'server/discover'))).json();
    expect(discover.result.supportedVersions).toEqual(['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']);
    expect(discover.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('probe');
    const ping = await modernPost(agent.url, modernRequest('x', 'ping'));
    expect(ping.status).toBe(404);
    expect((await ping.json()).error.code).toBe(-32601);
    const note = await modernPost(agent.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    expect(note.status).toBe(202);

    const client = await v2Client(agent);
    let updates = 0;
    let listChanged = 0;
    client.setNotificationHandler('notifications/resources/updated', () => void updates++);
    client.setNotificationHandler('notifications/tools/list_changed', () => void listChanged++);
    const sub = await client.listen({ toolsListChanged: true, resourceSubscriptions: ['probe://note'] });
    expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true, resourceSubscriptions: ['probe://note'] });
    await client.callTool({ name: 'touch', arguments: { uri: 'probe://note' } });
    await waitFor(() => updates > 0 && listChanged > 0, 5000);
    await sub.close();
    await client.close();
    await waitFor(() => agent.gateway.sessionCount === sessions, 2000); // the listen stream's session ended with it
  });

  it('log messages only for a request that asked for them, on its own stream', async () => {
    const quiet = await modernPost(agent.url, modernRequest(40, 'tools/call', { name: 'touch', arguments: { uri: 'probe://x' } }));
    expect(quiet.headers.get('content-type')).toContain('application/json');
    expect((await quiet.json()).result.content[0].text).toBe('ok');
    const loud = await modernPost(agent.url, modernRequest(41, 'tools/call', { name: 'touch', arguments: { uri: 'probe://x' }, _meta: { 'io.modelcontextprotocol/logLevel': 'info' } }));
    expect(loud.headers.get('content-type')).toContain('text/event-stream');
    const events = (await loud.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(events.some((e) => e.method === 'notifications/message' && e.params.data === 'touched probe://x')).toBe(true);
    expect(events.some((e) => e.method === 'notifications/tools/list_changed')).toBe(false);
    expect(events.at(-1)).toMatchObject({ id: 41, result: { resultType: 'complete' } });
  });

  it('a Mcp-Name in the base64 sentinel form is decoded before comparison', async () => {
    const body = modernRequest(30, 'tools/call', { name: 'echo', arguments: { text: 'b64' } });
    const res = await modernPost(agent.url, body, { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` });
    expect(res.status).toBe(200);
    const bad = await modernPost(agent.url, modernRequest(31, 'resources/read', { uri: 'probe://note' }), { 'mcp-name': 'probe://other' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe(-32020);
    const missingEnvelope = await modernPost(agent.url, { jsonrpc: '2.0', id: 32, method: 'tools/list', params: {} });
    expect(missingEnvelope.status).toBe(400);
    expect((await missingEnvelope.json()).error.code).toBe(-32602);
    const claimOnly = await fetch(agent.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(modernRequest(33, 'tools/list')) });
    expect(claimOnly.status).toBe(400);
    expect((await claimOnly.json()).error.code).toBe(-32020);
  });
});

describe('held input-required state is bounded', () => {
  it('expires with the request timeout and cancels the server request', async () => {
    const agent = await startTestAgent(['--request-timeout', '0.5', '--', ...PROBE]);
    try {
      const first = await (await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'ask', arguments: { prompt: 'slow' } }, { sampling: {} }))).json();
      expect(first.result.resultType).toBe('input_required');
      await waitFor(() => agent.gateway.sessionCount === 0, 5000);
      const key = Object.keys(first.result.inputRequests)[0]!;
      const late = await (await modernPost(agent.url, modernRequest(2, 'tools/call', { name: 'ask', arguments: { prompt: 'slow' }, requestState: first.result.requestState, inputResponses: { [key]: { role: 'assistant', model: 'm', content: { type: 'text', text: 'late' } } } }, { sampling: {} }))).json();
      expect(late.error.code).toBe(-32602);
    } finally {
      await agent.stop(500);
    }
  });
});

describe('policy on stateless requests', () => {
  // A stand-in policy: two bearer tokens, `sleep` forbidden for bob, bob's tools/list filtered.
  let authentications = 0;
  const policy: AgentPolicy = {
    authenticate({ authorization: header }) {
      authentications++;
      if (header === 'Bearer alice') return principalNamed('alice');
      if (header === 'Bearer bob') return principalNamed('bob');
      return new Refusal(401, -32003, 'unauthorized', { 'WWW-Authenticate': 'Bearer' });
    },
    checkMessage(session, message) {
      if (session.principalKey === 'bob' && message.method === 'tools/call' && message.params?.name === 'sleep') {
        return new Refusal(403, ErrorCode.Forbidden, 'forbidden: sleep');
      }
      return null;
    },
    admit: () => () => {},
    transformResult(session, method, result) {
      if (method === 'tools/list' && session.principalKey === 'bob') {
        return { ...result, tools: (result.tools as Array<{ name: string }>).filter((t) => t.name !== 'sleep') };
      }
      return result;
    },
    close: async () => {},
  };
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE], policy);
  });
  afterAll(async () => {
    await agent?.stop(1000);
  });
  const as = (who: string) => ({ authorization: `Bearer ${who}` });

  it('authenticates and authorizes every request on its verified body', async () => {
    const before = authentications;
    expect((await modernPost(agent.url, modernRequest(1, 'tools/list'))).status).toBe(401);
    const list = await (await modernPost(agent.url, modernRequest(2, 'tools/list'), as('bob'))).json();
    expect(list.result.tools.map((t: { name: string }) => t.name)).not.toContain('sleep');
    expect(list.result.cacheScope).toBe('private');
    const denied = await modernPost(agent.url, modernRequest(3, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), as('bob'));
    expect(denied.status).toBe(403);
    // A header that names an allowed tool does not get a forbidden body through.
    const smuggled = await modernPost(agent.url, modernRequest(4, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), { ...as('bob'), 'mcp-name': 'echo' });
    expect(smuggled.status).toBe(400);
    expect((await smuggled.json()).error.code).toBe(-32020);
    const ok = await (await modernPost(agent.url, modernRequest(5, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), as('alice'))).json();
    expect(ok.result.content[0].text).toBe('slept 1');
    expect(authentications - before).toBe(5);
  });

  it('held input-required state resumes only for the principal that started it', async () => {
    const first = await (await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'ask', arguments: { prompt: 'mine' } }, { sampling: {} }), as('alice'))).json();
    const key = Object.keys(first.result.inputRequests)[0]!;
    const retry = (id: number) => modernRequest(id, 'tools/call', { name: 'ask', arguments: { prompt: 'mine' }, requestState: first.result.requestState, inputResponses: { [key]: { role: 'assistant', model: 'm', content: { type: 'text', text: 'alice-answer' } } } }, { sampling: {} });
    const stolen = await (await modernPost(agent.url, retry(2), as('bob'))).json();
    expect(stolen.error.code).toBe(-32602);
    const done = await (await modernPost(agent.url, retry(3), as('alice'))).json();
    expect(done.result.content[0].text).toBe('alice-answer');
  });

  it('an unknown method is HTTP 404 with -32601', async () => {
    const res = await modernPost(agent.url, modernRequest(9, 'no/such/method'), as('alice'));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe(-32601);
  });
});

describe('per-session mode', () => {
  it('refuses 2026-07-28 with -32022 naming the session revisions, so auto clients fall back', async () => {
    const agent = await startTestAgent(['--session-mode', 'per-session', '--', ...PROBE]);
    try {
      const res = await modernPost(agent.url, modernRequest(1, 'tools/list'));
      expect(res.status).toBe(400);
      const error = (await res.json()).error;
      expect(error.code).toBe(-32022);
      expect(error.data.supported).not.toContain('2026-07-28');
      const client = await v2Client(agent);
      expect(client.getNegotiatedProtocolVersion()).not.toBe('2026-07-28');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'fallback' } }))).toBe('fallback');
      await client.close();
    } finally {
      await agent.stop(500);
    }
  });
});
