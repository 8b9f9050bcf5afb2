import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningAgent } from '../../agent/agent.js';
import { RESOURCE, startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { connectClient, parseBody, PROBE, RawSession, startTestAgent, textOf } from './harness.js';
import { startPolicedAgent, tokenFor } from './policed-agent.js';

/** The agent with real OIDC (tokens verified against a real provider's JWKS over HTTP), Cedar and a tool filter. */
describe('policy pipeline on the data path', () => {
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
        // ToolHive-style policies: everyone may list and call echo; only alice may sleep; nobody may exit.
        'permit(principal, action == Action::"list_tools", resource);',
        'permit(principal, action == Action::"call_tool", resource == Tool::"echo");',
        'permit(principal == Client::"alice", action == Action::"call_tool", resource == Tool::"sleep");',
        'forbid(principal, action == Action::"call_tool", resource == Tool::"exit");',
        'permit(principal, action == Action::"call_tool", resource == Tool::"exit");',
      ],
      ['echo', 'sleep', 'exit', 'cancelled'],
    );
    alice = await tokenFor(idp, 'alice');
    bob = await tokenFor(idp, 'bob');
  });
  afterAll(async () => {
    await agent?.stop(1000);
    await idp?.close();
  });

  it('401 with resource metadata when no token is sent; RFC 9728 metadata served', async () => {
    const res = await fetch(agent.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"');
    const base = agent.url.replace(/\/mcp$/, '');
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const doc = await (await fetch(base + path)).json();
      expect(doc).toMatchObject({ resource: RESOURCE, authorization_servers: [idp.issuer], bearer_methods_supported: ['header'] });
    }
  });

  it('a real client_credentials token from the provider is accepted', async () => {
    const token = await idp.clientCredentialsToken({ resource: RESOURCE });
    const client = await connectClient(agent, 'streamable-http', {}, auth(token));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'cc' } }))).toBe('cc');
    await client.close();
  });

  it('lists only what the principal may use; denied calls get 403; filtered tools look unknown', async () => {
    const a = await RawSession.open(agent.url, auth(alice));
    const b = await RawSession.open(agent.url, auth(bob));
    const names = async (s: RawSession) => (await parseBody(await s.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).result.tools.map((t: { name: string }) => t.name).sort();
    expect(await names(a)).toEqual(['echo', 'sleep']); // exit: forbidden; cancelled: no permit
    expect(await names(b)).toEqual(['echo']);
    expect((await a.call(2, 'sleep', { ms: 1 })).result.content[0].text).toBe('slept 1');
    const denied = await b.post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 1 } } });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe(403);
    // Not in toolsFilter: the same answer as a tool the server does not have.
    const filtered = await parseBody(await a.post({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'progress', arguments: { steps: 1 } } }));
    expect(filtered.error).toMatchObject({ code: -32602, message: 'Unknown tool: progress' });
  });

  it('a batch smuggling a denied call never reaches the server', async () => {
    const a = await RawSession.open(agent.url, auth(alice));
    const res = await a.post([
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'decoy' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'exit', arguments: {} } },
    ]);
    expect(res.status).toBe(400);
    // The server is still up: exit never ran.
    expect((await a.call(3, 'echo', { text: 'alive' })).result.content[0].text).toBe('alive');
    const ready = await fetch(agent.url.replace('/mcp', '/readyz'));
    expect(ready.status).toBe(200);
  });

  it('sessions are bound to their principal and never replace a token', async () => {
    const a = await RawSession.open(agent.url, auth(alice));
    const asBob = await fetch(agent.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': a.sessionId, ...auth(bob) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(asBob.status).toBe(404);
    const noToken = await fetch(agent.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': a.sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(noToken.status).toBe(401);
  });

  it('bad tokens are refused before any session work', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await idp.sign({ iss: idp.issuer, sub: 'alice', aud: RESOURCE, iat: now - 600, exp: now - 300 });
    const otherAudience = await idp.sign({ iss: idp.issuer, sub: 'alice', aud: 'http://127.0.0.1:2/other', iat: now, exp: now + 600 });
    for (const token of [expired, otherAudience, 'not-a-jwt', `${alice.slice(0, -4)}AAAA`]) {
      const res = await fetch(agent.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...auth(token) }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('takes OIDC and Cedar from the files the injector mounts (OME_MCP_OIDC_CONFIG_FILE, OME_MCP_CEDAR_POLICIES)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-mounted-'));
    writeFileSync(join(dir, 'oidc.yaml'), `issuer: ${idp.issuer}\naudience: ${RESOURCE}\njwksURL: ${idp.jwksURL}\njwksAllowPrivateIP: true\n`);
    writeFileSync(join(dir, 'policy.cedar'), 'permit(principal == Client::"bob", action == Action::"call_tool", resource == Tool::"echo");\n');
    const mounted = await startTestAgent(['--', ...PROBE], undefined, { OME_MCP_OIDC_CONFIG_FILE: join(dir, 'oidc.yaml'), OME_MCP_CEDAR_POLICIES: join(dir, 'policy.cedar') });
    const ping = await fetch(mounted.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(ping.status).toBe(401);
    const b = await RawSession.open(mounted.url, auth(bob));
    expect((await b.call(1, 'echo', { text: 'mounted' })).result.content[0].text).toBe('mounted');
    const a = await RawSession.open(mounted.url, auth(alice));
    expect((await a.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } })).status).toBe(403);
    await mounted.stop(1000);
  });

  it('WebSocket and legacy SSE authenticate too', async () => {
    const wsStatus = await new Promise<number>((resolve) => {
      const socket = new WebSocket(agent.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws'), 'mcp');
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => {});
    });
    expect(wsStatus).toBe(401);
    const sse = await fetch(agent.url.replace(/\/mcp$/, '/sse'), { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(401);
    const client = await connectClient(agent, 'sse', {}, auth(alice));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'sse ok' } }))).toBe('sse ok');
    await client.close();
  });
});

describe('read-only mode from tool annotations', () => {
  it('knows the annotations from the start: an annotated read-only tool is callable before any tools/list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-ro-'));
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, 'readOnly: true\n');
    const agent = await startTestAgent(['--config', config, '--', 'node', 'bench/echo-server.mjs']);
    const s = await RawSession.open(agent.url);
    await new Promise((r) => setTimeout(r, 200)); // the agent's own tools/list after initialize
    expect((await s.call(1, 'echo', { text: 'read only' })).result.content[0].text).toBe('read only');
    await agent.stop(1000);
  });
});
