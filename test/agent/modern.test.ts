// 2026-07-28 clients on the agent's /mcp endpoint, in front of a 2025-era (v1 SDK) stdio server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, PROBE, startTestAgent, textOf } from './harness.js';
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
    const err = (await res.json()).error;
    expect(err.code).toBe(-32022);
    expect(err.data.supported).toContain('2026-07-28');
    res = await modernPost(agent.url, body);
    expect(res.status).toBe(200);
    const ok = await res.json();
    expect(ok.result.resultType).toBe('complete');
    expect(ok.result.content[0].text).toBe('x');
  });

  it('legacy v1 clients keep working on the same endpoint', async () => {
    const client = await connectClient(agent);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'old' } });
    expect(textOf(result)).toBe('old');
    await client.close();
  });
});
