import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { PROBE, RawSession, RawSocket, parseBody, startTestAgent } from './harness.js';

// The probe is a v1 SDK stdio server: its parser is strict (unknown top-level members, a
// non-object `_meta`, a fractional error code) and drops such a message without a word. What
// the agent forwards must parse there; what cannot be made to parse is refused to the client.
describe('what the agent forwards parses on a strict (v1 SDK) server', () => {
  let agent: RunningAgent;
  let s: RawSession;
  beforeAll(async () => {
    agent = await startTestAgent(['--request-timeout', '3', '--', ...PROBE]);
    s = await RawSession.open(agent.url);
  });
  afterAll(() => agent.stop(1000));

  it('a request with unknown top-level members is answered (only the envelope is forwarded)', async () => {
    const started = Date.now();
    const r = await parseBody(await s.post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'zz' } }, zz: 1 }));
    expect(r.result.content[0].text).toBe('zz');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it.each([
    ['params._meta that is not an object', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: 5 } }],
    ['a progress token that is neither a string nor an integer', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: { progressToken: 1.5 } } }],
    ['a response with both result and error', { jsonrpc: '2.0', id: 4, result: {}, error: { code: 1, message: 'x' } }],
    ['a response with a fractional error code', { jsonrpc: '2.0', id: 5, error: { code: 1.5, message: 'x' } }],
  ])('%s → 400 -32600 at once', async (_name, body) => {
    const res = await s.post(body);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32600);
  });

  it('a reply to a sampling request with unknown members reaches the server; a malformed one is refused, not dropped', async () => {
    const ws = await RawSocket.open(agent, { sampling: {} });
    ws.send({ jsonrpc: '2.0', id: 'call', method: 'tools/call', params: { name: 'ask', arguments: { prompt: 'q' } } });
    const sampling = await ws.next((m) => m.method === 'sampling/createMessage');
    ws.send({ jsonrpc: '2.0', id: sampling.id, error: { code: -1.5, message: 'fractional' } });
    const refused = await ws.next((m) => m.error !== undefined && m.id === null);
    expect(refused.error.code).toBe(-32600);
    expect(refused.error.message).toMatch(/integer/);
    ws.send({ jsonrpc: '2.0', id: sampling.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } }, zz: true });
    const answer = await ws.next((m) => m.id === 'call', 2500);
    expect(answer.result.content[0].text).toBe('sampled');
    ws.close();
  });
});
