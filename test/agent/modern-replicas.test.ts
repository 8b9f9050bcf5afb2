// Two agent replicas behind "a plain Service": a 2026-07-28 client's requests land on either.
// Stateless requests need nothing; an input-required retry is passed to the replica holding the
// 2025-era server's request, when the replicas share OME_MCP_STATE_KEY and know OME_MCP_POD_IP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { PROBE, startTestAgent } from './harness.js';
import { modernPost, modernRequest } from './modern-harness.js';

const answer = { role: 'assistant', model: 'm', content: { type: 'text', text: 'from-the-other-replica' } };

describe('replicas', () => {
  let a: RunningAgent;
  let b: RunningAgent;
  let lone: RunningAgent;
  beforeAll(async () => {
    const replica = { OME_MCP_POD_IP: '127.0.0.1', OME_MCP_STATE_KEY: 'shared-secret' };
    [a, b] = [await startTestAgent(['--', ...PROBE], undefined, replica), await startTestAgent(['--', ...PROBE], undefined, replica)];
    lone = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(500), b?.stop(500), lone?.stop(500)]);
  });

  it('stateless requests are served by any replica', async () => {
    for (const agent of [a, b, a, b]) {
      const r = await (await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'echo', arguments: { text: 'x' } }))).json();
      expect(r.result.content[0].text).toBe('x');
    }
  });

  it('a retry that lands on another replica is forwarded to the one holding the call', async () => {
    const first = await (await modernPost(a.url, modernRequest(1, 'tools/call', { name: 'ask', arguments: { prompt: 'q' } }, { sampling: {} }))).json();
    expect(first.result.resultType).toBe('input_required');
    const key = Object.keys(first.result.inputRequests)[0]!;
    const retry = modernRequest(2, 'tools/call', { name: 'ask', arguments: { prompt: 'q' }, requestState: first.result.requestState, inputResponses: { [key]: answer } }, { sampling: {} });
    const done = await (await modernPost(b.url, retry)).json();
    expect(done).toMatchObject({ id: 2, result: { resultType: 'complete', content: [{ text: 'from-the-other-replica' }] } });
  });

  it('without a shared key the other replica says so, and the client can start over', async () => {
    const first = await (await modernPost(lone.url, modernRequest(1, 'tools/call', { name: 'ask', arguments: { prompt: 'q' } }, { sampling: {} }))).json();
    const key = Object.keys(first.result.inputRequests)[0]!;
    const retry = modernRequest(2, 'tools/call', { name: 'ask', arguments: { prompt: 'q' }, requestState: first.result.requestState, inputResponses: { [key]: answer } }, { sampling: {} });
    const elsewhere = await (await modernPost(a.url, retry)).json();
    expect(elsewhere.error.code).toBe(-32602);
    expect(elsewhere.error.message).toMatch(/without it/);
  });
});
