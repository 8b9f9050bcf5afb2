// A 2026-07-28-only stdio server (v2 SDK) behind the agent: 2025-era clients get sessions, the
// handshake and server→client requests from the bridge; 2026-07-28 clients pass through.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, startTestAgent, textOf, waitFor, type TransportKind } from './harness.js';
import { MODERN, modernPost, modernRequest } from './modern-harness.js';

describe('2026-07-28 stdio server behind the agent', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...MODERN]);
  });
  afterAll(async () => {
    await agent?.stop(1000);
  });

  it('detects the server revision at start and says so in /readyz', async () => {
    const body = await (await fetch(agent.url.replace('/mcp', '/readyz'))).json();
    expect(body.upstreamProtocol).toBe('2026-07-28');
    expect(body.upstream).toContain('modern-probe');
  });

  for (const kind of ['streamable-http', 'sse', 'websocket'] as TransportKind[]) {
    it(`v1 client over ${kind}: handshake, tools, progress, sampling/elicitation/roots via the bridge`, async () => {
      const client = await connectClient(agent, kind, { sampling: {}, elicitation: {}, roots: {} });
      expect(client.getServerVersion()?.name).toBe('modern-probe');
      client.setRequestHandler(CreateMessageRequestSchema, async (r) => ({ role: 'assistant', model: 'm', content: { type: 'text', text: `llm:${(r.params.messages[0]!.content as { text: string }).text}` } }));
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
      client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file:///${kind}` }] }));
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('ask');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
      const progress: number[] = [];
      expect(textOf(await client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) }))).toBe('done 3');
      expect(progress).toEqual([1, 2, 3]);
      expect(textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'q' } }))).toBe('llm:q');
      expect(textOf(await client.callTool({ name: 'confirm', arguments: { question: 'sure?' } }))).toBe('ok=true');
      expect(textOf(await client.callTool({ name: 'roots' }))).toBe(`file:///${kind}`);
      await client.ping();
      await client.close();
    });
  }

  it('v1 clients: concurrent sampling is asked of the client whose call it is', async () => {
    const clients = await Promise.all(['a', 'b', 'c'].map(async (name) => {
      const client = await connectClient(agent, 'streamable-http', { sampling: {} });
      client.setRequestHandler(CreateMessageRequestSchema, async () => {
        await new Promise((r) => setTimeout(r, 20));
        return { role: 'assistant', model: 'm', content: { type: 'text', text: `from-${name}` } };
      });
      return { name, client };
    }));
    const results = await Promise.all(clients.flatMap(({ name, client }) => [1, 2].map(async () => [name, textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'x' } }))])));
    for (const [name, text] of results) expect(text).toBe(`from-${name}`);
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('v1 client: cancelling a call reaches the server as notifications/cancelled', async () => {
    const client = await connectClient(agent);
    const controller = new AbortController();
    const call = client.callTool({ name: 'sleep', arguments: { ms: 5000 } }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(call).rejects.toThrow();
    await waitFor(async () => JSON.parse(textOf(await client.callTool({ name: 'cancelled' }))).length > 0, 5000);
    await client.close();
  });

  it('v1 client: resource subscriptions and list_changed come from the upstream listen stream', async () => {
    const client = await connectClient(agent);
    let updates = 0;
    let listChanged = 0;
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void updates++);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    // A GET stream for unsolicited messages.
    await new Promise((r) => setTimeout(r, 100));
    await client.subscribeResource({ uri: 'probe://note' });
    await client.callTool({ name: 'touch', arguments: { uri: 'probe://note' } });
    await waitFor(() => updates > 0 && listChanged > 0, 5000);
    await client.close();
  });

  it('v2 client in 2026-07-28 mode passes through: input-required results come from the server itself', async () => {
    const client = new ClientV2({ name: 'v2', version: '1' }, { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'v2-llm' } }));
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: false } }));
    await client.connect(new TransportV2(new URL(agent.url)));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'p' } }))).toBe('v2-llm');
    expect(textOf(await client.callTool({ name: 'confirm', arguments: { question: 'q' } }))).toBe('ok=false');
    let listChanged = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void listChanged++);
    const sub = await client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter.toolsListChanged).toBe(true);
    await client.callTool({ name: 'touch', arguments: { uri: 'probe://note' } });
    await waitFor(() => listChanged > 0, 5000);
    await sub.close();
    await client.close();
  });

  it.runIf(existsSync('.venv/bin/python'))('Python SDK client in auto mode against the modern server', async () => {
    const { stdout } = await promisify(execFile)('.venv/bin/python', ['test/fixtures/py_modern_client.py', agent.url], { timeout: 30_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ era: 'modern', version: '2026-07-28', text: 'py-modern', sampled: 'from-python' });
  });

  it('raw 2026-07-28 requests: identical ids, progress, log level, cancellation by closing the stream', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'echo', arguments: { text: `m${i}` } })).then((r) => r.json())));
    results.forEach((r, i) => expect(r).toMatchObject({ id: 1, result: { resultType: 'complete', content: [{ text: `m${i}` }] } }));
    const res = await modernPost(agent.url, modernRequest('p', 'tools/call', { name: 'progress', arguments: { steps: 2 }, _meta: { progressToken: 7 } }));
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(events.filter((e) => e.method === 'notifications/progress').map((e) => e.params.progressToken)).toEqual([7, 7]);
    const cancelledCount = async () => JSON.parse((await (await modernPost(agent.url, modernRequest(4, 'tools/call', { name: 'cancelled', arguments: {} }))).json()).result.content[0].text).length as number;
    const before = await cancelledCount();
    const controller = new AbortController();
    const pending = fetch(agent.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'sleep' },
      body: JSON.stringify(modernRequest(3, 'tools/call', { name: 'sleep', arguments: { ms: 10_000 } })),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    controller.abort();
    await pending;
    await waitFor(async () => (await cancelledCount()) > before, 5000);
  });

  it('Mcp-Param-* headers (x-mcp-header) are checked against the arguments', async () => {
    // Declarations are known from the server's own tools/list at start: no client listed yet.
    const call = modernRequest(1, 'tools/call', { name: 'region', arguments: { region: 'eu-west1', query: 'q' } });
    const missing = await modernPost(agent.url, call);
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/Mcp-Param-Region is missing/);
    const wrong = await modernPost(agent.url, call, { 'mcp-param-region': 'us-east1' });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.code).toBe(-32020);
    const encoded = await modernPost(agent.url, call, { 'mcp-param-region': `=?base64?${Buffer.from('eu-west1').toString('base64')}?=` });
    expect(encoded.status).toBe(200);
    // The v2 client mirrors the header itself once it has listed the tool.
    const client = new ClientV2({ name: 'v2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new TransportV2(new URL(agent.url)));
    const tools = await client.listTools();
    expect(JSON.stringify(tools.tools.find((t) => t.name === 'region')?.inputSchema)).toContain('x-mcp-header');
    expect(textOf(await client.callTool({ name: 'region', arguments: { region: 'eu-west1', query: 'q' } }))).toBe('eu-west1:q');
    await client.close();
  });

  it('raw 2026-07-28 request: the envelope and trace context reach the server', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await modernPost(agent.url, modernRequest(7, 'tools/call', { name: 'echo', arguments: { text: 't' }, _meta: { traceparent } }));
    expect(res.status).toBe(200);
    const seen = await modernPost(agent.url, modernRequest(8, 'tools/call', { name: 'seen', arguments: {} }));
    const log = JSON.parse((await seen.json()).result.content[0].text) as Array<{ method: string; meta: Record<string, unknown> | null }>;
    const call = log.filter((e) => e.method === 'tools/call' && e.meta?.traceparent === traceparent);
    expect(call.length).toBe(1);
    expect(call[0]!.meta!['io.modelcontextprotocol/clientInfo']).toEqual({ name: 'raw', version: '1' });
  });
});
