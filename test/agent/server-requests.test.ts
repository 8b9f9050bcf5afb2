import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, PROBE, startTestAgent, textOf, type TransportKind } from './harness.js';

// A stdio server does not say which client its sampling request is for; the agent must infer
// it. Concurrent callers are where a guess like "the most recent call" goes wrong.
describe('shared mode: concurrent server→client requests reach their own caller', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('each of several concurrent callers gets its own sampling answer (20 rounds)', async () => {
    const kinds: TransportKind[] = ['streamable-http', 'streamable-http', 'streamable-http', 'sse', 'websocket'];
    const clients = await Promise.all(
      kinds.map(async (kind, i) => {
        const client = await connectClient(agent, kind, { sampling: {} });
        const name = `caller-${i}-${kind}`;
        client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: name } }));
        return { client, name };
      }),
    );
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(clients.map(({ client }) => client.callTool({ name: 'ask', arguments: { prompt: `round ${round}` } }).then(textOf)));
      expect(answers, `round ${round}`).toEqual(clients.map((c) => c.name));
    }
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('an older slow call of another capable session does not take a sampling request meant for a later call', async () => {
    const [slow, asker] = await Promise.all(
      ['slow', 'asker'].map(async (name) => {
        const client = await connectClient(agent, 'streamable-http', { sampling: {} });
        client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: name } }));
        return client;
      }),
    );
    // Alone in flight, a call's sampling request is unambiguous: the agent learns that `ask` asks.
    expect(textOf(await asker!.callTool({ name: 'ask', arguments: { prompt: 'first' } }))).toBe('asker');
    const sleeping = slow!.callTool({ name: 'sleep', arguments: { ms: 1500 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(textOf(await asker!.callTool({ name: 'ask', arguments: { prompt: 'second' } }))).toBe('asker');
    expect(textOf(await sleeping)).toBe('slept 1500');
    await Promise.all([slow!.close(), asker!.close()]);
  });
});
