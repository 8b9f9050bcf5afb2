// Every client authentication method at once on a real agent in front of a real stdio server,
// over the agent's HTTPS (requesting client certificates): a client certificate, an API key,
// Basic and a JWT from a real OpenID provider, each through the MCP SDK client, each yielding
// the principal a Cedar group policy reads alike.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import bcrypt from 'bcryptjs';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { createTestCA, type Pem } from '../../agent/policy/testing/client-certs.js';
import { RESOURCE, startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { connectClient, PROBE, startTestAgent, textOf } from './harness.js';
import { tokenFor } from './policed-agent.js';

const API_KEY = 'ak_test_7d3f0c8e1a9b4d2f6e5c7a8b9d0e1f2a';
const PASSWORD = 'basic-password-for-bob';

describe('client authentication methods on the data path (HTTPS)', () => {
  let idp: TestIdP;
  let agent: RunningAgent;
  let ca: string;
  let clientCert: Pem;
  let strangerCert: Pem;

  /** undici's fetch trusting the test CA, presenting `cert` when given. */
  const fetchWith = (cert?: Pem) => {
    const dispatcher = new Agent({ connect: { ca, ...(cert ?? {}) } });
    return ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
  };
  async function connect(headers: Record<string, string>, cert?: Pem): Promise<Client> {
    const client = new Client({ name: 'auth-methods', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(agent.url), { requestInit: { headers }, fetch: fetchWith(cert) }));
    return client;
  }
  const post = (headers: Record<string, string>, cert?: Pem) =>
    fetchWith(cert)(agent.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
    });

  beforeAll(async () => {
    idp = await startTestIdP();
    const authority = await createTestCA('CN=agent test CA');
    ca = authority.cert;
    const server = await authority.issue('CN=127.0.0.1', { ip: ['127.0.0.1'] }, 'server');
    clientCert = await authority.issue('CN=svc-reporter,O=ops', { uri: ['spiffe://test/ns/reports/sa/reporter'] });
    strangerCert = await (await createTestCA('CN=stranger')).issue('CN=svc-reporter,O=ops');
    const dir = mkdtempSync(join(tmpdir(), 'agent-auth-'));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const sha = createHash('sha256').update(API_KEY).digest('hex');
    const config = file(
      'agent.json',
      JSON.stringify({
        name: 'auth-test',
        resourceURL: RESOURCE,
        oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, audience: RESOURCE, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } },
        authentication: {
          methods: [
            { type: 'ClientCertificate' },
            { type: 'ApiKey', keysFile: file('keys.yaml', `- hash: sha256:${sha}\n  principal: ci-bot\n  groups: [ops]\n`) },
            { type: 'Basic', usersFile: file('users.yaml', `- user: bob\n  hash: "${bcrypt.hashSync(PASSWORD, 6)}"\n  groups: [ops]\n- user: eve\n  hash: "${bcrypt.hashSync(PASSWORD, 6)}"\n`) },
            { type: 'Bearer' },
          ],
        },
        authzConfig: {
          type: 'inline',
          inline: {
            policies: ['permit(principal, action == Action::"list_tools", resource);', 'permit(principal in THVGroup::"ops", action == Action::"call_tool", resource == Tool::"echo");'],
          },
        },
      }),
    );
    agent = await startTestAgent([
      '--config', config,
      '--tls-cert-file', file('tls.crt', server.cert),
      '--tls-key-file', file('tls.key', server.key),
      '--tls-client-ca-file', file('ca.crt', ca),
      '--', ...PROBE,
    ], undefined, {}, false);
    // Readiness over HTTPS (the harness probes plain HTTP).
    for (let i = 0; i < 150; i++) {
      const ok = await fetchWith()(agent.url.replace('/mcp', '/readyz')).then((r) => r.status === 200, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await agent?.stop(1000);
    await idp?.close();
  });

  it('each method, through the MCP SDK client, calls a tool as a member of the policy group', async () => {
    // alice's token carries her groups as a claim, as an IdP would.
    const now = Math.floor(Date.now() / 1000);
    const withGroups = await idp.sign({ iss: idp.issuer, sub: 'alice', aud: RESOURCE, iat: now, exp: now + 600, groups: ['ops'] });
    const cases: [string, Record<string, string>, Pem | undefined][] = [
      ['ClientCertificate', {}, clientCert],
      ['ApiKey', { 'X-API-Key': API_KEY }, undefined],
      ['Basic', { authorization: `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}` }, undefined],
      ['Bearer', { authorization: `Bearer ${withGroups}` }, undefined],
    ];
    for (const [method, headers, cert] of cases) {
      const client = await connect(headers, cert);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: method } })), method).toBe(method);
      await client.close();
    }
  });

  it('a verified caller outside the group is refused by Cedar, whatever the method', async () => {
    for (const headers of [{ authorization: `Basic ${Buffer.from(`eve:${PASSWORD}`).toString('base64')}` }, { authorization: `Bearer ${await tokenFor(idp, 'carol')}` }]) {
      const client = await connect(headers);
      await expect(client.callTool({ name: 'echo', arguments: { text: 'no' } })).rejects.toThrow(/Forbidden|denied/);
      await client.close();
    }
  });

  it('wrong credentials are 401 and never fall through to another method', async () => {
    const key = await post({ 'X-API-Key': API_KEY + 'x' });
    expect(key.status).toBe(401);
    expect(key.headers.get('www-authenticate')).toBe('ApiKey header="X-API-Key"');
    // A certificate from a CA the agent does not trust is refused even with a good API key beside it.
    const stranger = await post({ 'X-API-Key': API_KEY }, strangerCert);
    expect(stranger.status).toBe(401);
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic realm="auth-test"');
    expect(none.headers.get('www-authenticate')).toContain('Bearer resource_metadata=');
  });
});

describe('every transport builds the credentials (plain HTTP, --api-keys-file)', () => {
  let agent: RunningAgent;
  const KEY = 'ak_test_sse_and_ws_0123456789abcdef0123';
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-auth-plain-'));
    writeFileSync(join(dir, 'keys.yaml'), `- hash: sha256:${createHash('sha256').update(KEY).digest('hex')}\n  principal: k\n`);
    // The flag, as locally: `--api-keys-file` is the ApiKey method when the config names none.
    agent = await startTestAgent(['--api-keys-file', join(dir, 'keys.yaml'), '--', ...PROBE]);
  });
  afterAll(() => agent?.stop(1000));

  it('legacy SSE and streamable HTTP take the API key; without it the SSE stream is refused 401', async () => {
    for (const kind of ['sse', 'streamable-http'] as const) {
      const client = await connectClient(agent, kind, {}, { 'X-API-Key': KEY });
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: kind } }))).toBe(kind);
      await client.close();
    }
    const res = await fetch(agent.url.replace(/\/mcp$/, '/sse'), { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('ApiKey header="X-API-Key"');
  });

  it('the WebSocket upgrade is authenticated by the same preamble', async () => {
    const { default: WebSocket } = await import('ws');
    const url = agent.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws');
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, 'mcp', { headers });
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
    expect(await status({ 'X-API-Key': KEY })).toBe(101);
    expect(await status({ 'X-API-Key': 'wrong' })).toBe(401);
  });
});
