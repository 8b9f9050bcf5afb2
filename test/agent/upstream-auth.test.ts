// OAuth 2 client credentials toward a protected HTTP upstream: agent B fronts agent A, which
// requires tokens from a real OIDC provider. B finds the authorization server the MCP way (A's
// RFC 9728 metadata), gets a token with the client credentials grant and calls through.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { CLIENT_ID, CLIENT_SECRET, startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { connectClient, PROBE, startTestAgent, textOf } from './harness.js';
import { freePort } from '../free-port.js';


describe('upstream client credentials', () => {
  let idp: TestIdP;
  let protectedAgent: RunningAgent;
  let dir: string;
  const front: RunningAgent[] = [];

  beforeAll(async () => {
    idp = await startTestIdP();
    dir = mkdtempSync(join(tmpdir(), 'agent-upstream-auth-'));
    const port = await freePort();
    const resourceURL = `http://127.0.0.1:${port}/mcp`;
    writeFileSync(
      join(dir, 'protected.json'),
      JSON.stringify({ resourceURL, oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, audience: resourceURL, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } } }),
    );
    protectedAgent = await startTestAgent(['--port', String(port), '--config', join(dir, 'protected.json'), '--', ...PROBE]);
  });
  afterAll(async () => {
    for (const a of front) await a.stop(1000);
    await protectedAgent?.stop(1000);
    await idp?.close();
  });

  async function startFront(secret: string, waitReady = true): Promise<RunningAgent> {
    const n = front.length;
    writeFileSync(join(dir, `secret-${n}`), `${secret}\n`);
    writeFileSync(
      join(dir, `front-${n}.json`),
      JSON.stringify({
        upstream: {
          transport: 'streamable-http',
          url: protectedAgent.url,
          clientCredentials: { issuer: idp.issuer, clientId: CLIENT_ID, clientSecretFile: join(dir, `secret-${n}`) },
        },
      }),
    );
    const a = await startTestAgent(['--config', join(dir, `front-${n}.json`)], undefined, {}, waitReady);
    front.push(a);
    return a;
  }

  it('the protected upstream refuses a tokenless caller; through the front agent a client calls a tool', async () => {
    expect((await fetch(protectedAgent.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const client = await connectClient(await startFront(CLIENT_SECRET));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'through a token' } }))).toContain('through a token');
    await client.close();
  });

  it('a wrong client secret: the front agent never becomes ready, and /readyz says why (at once, not at the initialize timeout)', async () => {
    const a = await startFront('wrong-secret', false);
    await new Promise((r) => setTimeout(r, 1500));
    const ready = await fetch(a.url.replace('/mcp', '/readyz'));
    expect(ready.status).toBe(503);
    expect((await ready.json()).upstream).toMatch(/could not be reached: client authentication failed/);
  });
});

describe('an HTTP upstream that cannot be reached', () => {
  it('a request whose POST fails is answered at once with an error, not at the request timeout', async () => {
    const upstream = await startTestAgent(['--', ...PROBE]);
    const front = await startTestAgent(['--upstream', upstream.url]);
    const client = await connectClient(front);
    await upstream.stop(100);
    const t0 = Date.now();
    await expect(client.callTool({ name: 'echo', arguments: { text: 'gone' } })).rejects.toThrow(/could not be reached/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await client.close();
    await front.stop(100);
  });
});
