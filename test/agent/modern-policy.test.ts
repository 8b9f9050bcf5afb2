// 2026-07-28 requests through the real policy pipeline (OIDC tokens from a real provider, Cedar,
// tool filter): each stateless request is authenticated and authorized on its verified body.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { startPolicedAgent, tokenFor } from './policed-agent.js';
import { textOf } from './harness.js';
import { modernPost, modernRequest } from './modern-harness.js';

describe('2026-07-28 requests and the policy pipeline', () => {
  let idp: TestIdP;
  let agent: RunningAgent;
  let alice: string;
  let bob: string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    idp = await startTestIdP();
    agent = await startPolicedAgent(
      idp,
      [
        'permit(principal, action == Action::"list_tools", resource);',
        'permit(principal, action == Action::"call_tool", resource == Tool::"echo");',
        'permit(principal == Client::"alice", action == Action::"call_tool", resource == Tool::"sleep");',
        'permit(principal == Client::"alice", action == Action::"call_tool", resource == Tool::"ask");',
      ],
      ['echo', 'sleep', 'ask'],
    );
    alice = await tokenFor(idp, 'alice');
    bob = await tokenFor(idp, 'bob');
  });
  afterAll(async () => {
    await agent?.stop(1000);
    await idp?.close();
  });

  it('401 with resource metadata on a modern request without a token', async () => {
    const res = await modernPost(agent.url, modernRequest(1, 'tools/list'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata=');
  });

  it('lists per principal (cacheScope private), denies by the body, refuses a lying header first', async () => {
    const names = async (token: string) => {
      const r = await (await modernPost(agent.url, modernRequest(1, 'tools/list'), auth(token))).json();
      expect(r.result.cacheScope).toBe('private');
      return r.result.tools.map((t: { name: string }) => t.name).sort();
    };
    expect(await names(alice)).toEqual(['ask', 'echo', 'sleep']);
    expect(await names(bob)).toEqual(['echo']);
    const denied = await modernPost(agent.url, modernRequest(2, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), auth(bob));
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe(403);
    const lying = await modernPost(agent.url, modernRequest(3, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), { ...auth(bob), 'mcp-name': 'echo' });
    expect(lying.status).toBe(400);
    expect((await lying.json()).error.code).toBe(-32020);
    const ok = await (await modernPost(agent.url, modernRequest(4, 'tools/call', { name: 'sleep', arguments: { ms: 1 } }), auth(alice))).json();
    expect(ok.result.content[0].text).toBe('slept 1');
  });

  it('the v2 client with a bearer token: discover, filtered list, sampling through input-required', async () => {
    const client = new ClientV2({ name: 'v2', version: '1' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'ok-alice' } }));
    await client.connect(new TransportV2(new URL(agent.url), { requestInit: { headers: auth(alice) } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['ask', 'echo', 'sleep']);
    expect(textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'p' } }))).toBe('ok-alice');
    await client.close();
  });

  it("bob cannot resume alice's held call with her requestState", async () => {
    const first = await (await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'ask', arguments: { prompt: 'secret' } }, { sampling: {} }), auth(alice))).json();
    expect(first.result.resultType).toBe('input_required');
    const key = Object.keys(first.result.inputRequests)[0]!;
    const retry = (id: number) => modernRequest(id, 'tools/call', { name: 'ask', arguments: { prompt: 'secret' }, requestState: first.result.requestState, inputResponses: { [key]: { role: 'assistant', model: 'm', content: { type: 'text', text: 'answer' } } } }, { sampling: {} });
    const stolen = await (await modernPost(agent.url, retry(2), auth(bob))).json();
    expect(stolen.error).toBeDefined();
    const done = await (await modernPost(agent.url, retry(3), auth(alice))).json();
    expect(done.result.content[0].text).toBe('answer');
  });
});
