// 2025 sessions served by any replica: agents that share a state key seal what a session needs
// into its id, so a session started on one continues on another (or on a restarted process)
// without affinity. A different key, or another caller, cannot open it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { parseBody, PROBE, RawSession, startTestAgent } from './harness.js';

const KEY = 'replicas-share-this-key-0123456789';

describe('sealed session ids', () => {
  let a: RunningAgent;
  let b: RunningAgent;
  let other: RunningAgent;
  beforeAll(async () => {
    [a, b, other] = await Promise.all([
      startTestAgent(['--state-key', KEY, '--', ...PROBE]),
      startTestAgent(['--state-key', KEY, '--', ...PROBE]),
      startTestAgent(['--state-key', 'another-key-0123456789abcdef', '--', ...PROBE]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a, b, other].map((x) => x?.stop(500)));
  });

  const echo = (s: RawSession, url: string, id: number, text: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } }),
    });

  it('a session started on one replica continues on another, which says once what did not move', async () => {
    const s = await RawSession.open(a.url);
    expect(s.sessionId).toMatch(/^s1\./);
    expect(s.sessionId.length).toBeLessThan(400);
    const onA = await parseBody(await echo(s, a.url, 1, 'on a'));
    expect(onA.result.content[0].text).toContain('on a');

    const moved = await echo(s, b.url, 2, 'on b');
    expect(moved.status).toBe(200);
    const body = await moved.text();
    expect(body).toContain('did not move with it'); // the notice, an SSE event before the result
    expect(body).toContain('on b');
    const again = await parseBody(await echo(s, b.url, 3, 'still b'));
    expect(again.result.content[0].text).toContain('still b');
    expect(b.gateway.sessionCount).toBe(1);
  });

  it('a restarted process resumes its sessions', async () => {
    const s = await RawSession.open(a.url);
    await a.stop(500);
    a = await startTestAgent(['--state-key', KEY, '--', ...PROBE]);
    const r = await parseBody(await echo(s, a.url, 4, 'after restart'));
    expect(JSON.stringify(r)).toContain('after restart');
  });

  it('another key does not open it (404: initialize again); nor does a forged or altered id', async () => {
    const s = await RawSession.open(a.url);
    expect((await echo(s, other.url, 5, 'x')).status).toBe(404);
    const altered = Object.assign(new RawSession(b.url), { sessionId: `${s.sessionId.slice(0, -4)}AAAA` });
    expect((await echo(altered, b.url, 6, 'x')).status).toBe(404);
    const unsealed = await startTestAgent(['--', ...PROBE]);
    const plain = await RawSession.open(unsealed.url);
    expect(plain.sessionId).not.toMatch(/^s1\./); // no key: random ids, as before
    await unsealed.stop(500);
  });
});

describe('requests for a session go to the replica that holds it while it lives', () => {
  it('another replica passes them on (POST and the GET stream); when the owner is gone the session moves', async () => {
    const owner = await startTestAgent(['--state-key', KEY, '--pod-ip', '127.0.0.1', '--', ...PROBE]);
    const peer = await startTestAgent(['--state-key', KEY, '--pod-ip', '127.0.0.1', '--', ...PROBE]);
    const s = await RawSession.open(owner.url);
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': s.sessionId, 'mcp-protocol-version': '2025-06-18' };
    const call = (url: string, id: number, name: string, args: Record<string, unknown>) =>
      fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });

    const passed = await call(peer.url, 1, 'echo', { text: 'via the peer' });
    expect(passed.status).toBe(200);
    const text = await passed.text();
    expect(text).toContain('via the peer');
    expect(text).not.toContain('did not move'); // served by its owner: nothing moved
    expect(peer.gateway.sessionCount).toBe(0);

    // The GET stream through the peer is the owner's: a list change on the owner's server arrives on it.
    const ac = new AbortController();
    const get = await fetch(peer.url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' }, signal: ac.signal });
    expect(get.status).toBe(200);
    const reader = get.body!.getReader();
    await (await call(peer.url, 2, 'touch', { uri: 'probe://x' })).text();
    let seen = '';
    const until = Date.now() + 5000;
    while (!seen.includes('list_changed') && Date.now() < until) seen += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    expect(seen).toContain('notifications/tools/list_changed');
    ac.abort();

    // An owner that cannot serve (here: shutting down; also: its server gone or restarting) sends the session back.
    owner.gateway.startDraining();
    const drained = await (await call(peer.url, 3, 'echo', { text: 'owner draining' })).text();
    expect(drained).toContain('owner draining');
    expect(drained).toContain('did not move with it');
    expect(peer.gateway.sessionCount).toBe(1);
    await owner.stop(200);

    // An owner that is gone (nothing listens at its address): the session moves.
    const owner2 = await startTestAgent(['--state-key', KEY, '--pod-ip', '127.0.0.1', '--', ...PROBE]);
    const s2 = await RawSession.open(owner2.url);
    await owner2.stop(200);
    const gone = await (
      await fetch(peer.url, { method: 'POST', headers: { ...headers, 'mcp-session-id': s2.sessionId }, body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'owner gone' } } }) })
    ).text();
    expect(gone).toContain('owner gone');
    expect(peer.gateway.sessionCount).toBe(2);
    await peer.stop(200);
  });
});
