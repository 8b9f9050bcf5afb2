// The caller's identity reaches the server: per session, exchanged at a real OIDC provider
// (RFC 8693) or passed through, as an environment variable of a stdio server's own process or a
// header of an HTTP server's requests. Two users at once; each sees only their own identity.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { CLIENT_ID, CLIENT_SECRET, RESOURCE, startTestIdP, type TestIdP } from '../../agent/policy/testing/oidc.js';
import { connectClient, startTestAgent, textOf } from './harness.js';

const IDENTITY = ['node', 'test/fixtures/identity-server.mjs'];
const SERVER_AUDIENCE = 'https://kubernetes.example/api';

describe("the caller's identity for the server", () => {
  let idp: TestIdP;
  let dir: string;
  let httpServer: ChildProcess | undefined;
  let httpPort: Promise<number> | undefined;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    idp = await startTestIdP();
    dir = mkdtempSync(join(tmpdir(), 'agent-identity-'));
    writeFileSync(join(dir, 'client-secret'), CLIENT_SECRET);
  });
  afterAll(async () => {
    for (const a of agents) await a.stop(1000);
    httpServer?.kill();
    await idp?.close();
  });

  async function agent(identity: object, upstream: string[], extra: object = {}): Promise<RunningAgent> {
    const file = join(dir, `agent-${agents.length}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        sessionMode: 'per-session',
        resourceURL: RESOURCE,
        oidcConfig: { type: 'inline', inline: { issuer: idp.issuer, audience: RESOURCE, jwksURL: idp.jwksURL, jwksAllowPrivateIP: true } },
        identity,
        ...extra,
      }),
    );
    const a = await startTestAgent(['--config', file, ...upstream]);
    agents.push(a);
    return a;
  }
  const exchange = { mode: 'exchange', exchange: { clientId: CLIENT_ID, clientSecretFile: '', audience: SERVER_AUDIENCE } };
  const whoami = async (a: RunningAgent, sub: string, exp?: number) => {
    const token = await idp.sign({ sub, ...(exp ? { exp } : {}) });
    const client = await connectClient(a, 'streamable-http', {}, { authorization: `Bearer ${token}` });
    return { client, seen: JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) };
  };

  it('exchange, stdio: two users at once, each in their own process with their own exchanged token', async () => {
    const a = await agent({ ...exchange, exchange: { ...exchange.exchange, clientSecretFile: join(dir, 'client-secret') } }, ['--', ...IDENTITY]);
    const before = idp.exchanges.length;
    const [alice, bob] = await Promise.all([whoami(a, 'alice'), whoami(a, 'bob')]);
    expect(alice.seen).toMatchObject({ sub: 'alice', aud: SERVER_AUDIENCE, act: { sub: CLIENT_ID } });
    expect(bob.seen).toMatchObject({ sub: 'bob', aud: SERVER_AUDIENCE });
    expect(alice.seen.pid).not.toBe(bob.seen.pid);
    expect(idp.exchanges.slice(before).map((e) => e.sub).sort()).toEqual(['alice', 'bob']);
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  const httpIdentityServer = async () => {
    httpServer ??= spawn(IDENTITY[0]!, [IDENTITY[1]!, 'http', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    httpPort ??= new Promise<number>((resolve) => httpServer!.stdout!.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())![1]))));
    return httpPort;
  };

  it('exchange, HTTP upstream: each session its own upstream session with its own Authorization header', async () => {
    const port = await httpIdentityServer();
    const a = await agent({ ...exchange, exchange: { ...exchange.exchange, clientSecretFile: join(dir, 'client-secret') } }, ['--upstream', `http://127.0.0.1:${port}/mcp`]);
    const [alice, bob] = await Promise.all([whoami(a, 'alice'), whoami(a, 'bob')]);
    expect(alice.seen).toMatchObject({ sub: 'alice', aud: SERVER_AUDIENCE });
    expect(bob.seen).toMatchObject({ sub: 'bob', aud: SERVER_AUDIENCE });
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  it("passthrough: the caller's own token; the session ends when it expires", async () => {
    const a = await agent({ mode: 'passthrough' }, ['--', ...IDENTITY]);
    const carol = await whoami(a, 'carol', Math.floor(Date.now() / 1000) + 3);
    expect(carol.seen).toMatchObject({ sub: 'carol', aud: RESOURCE });
    await new Promise((r) => setTimeout(r, 3500));
    await expect(carol.client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow();
  });

  it('backends: each session its own backends, each backend a token exchanged for its own audience', async () => {
    const port = await httpIdentityServer();
    const backends = [
      { name: 'cluster', command: IDENTITY, audience: SERVER_AUDIENCE },
      { name: 'web', url: `http://127.0.0.1:${port}/mcp`, audience: 'https://web.example' },
      { name: 'plain', command: IDENTITY }, // the configured audience
    ];
    const a = await agent({ ...exchange, exchange: { ...exchange.exchange, audience: 'https://default.example', clientSecretFile: join(dir, 'client-secret') } }, [], { backends });
    const before = idp.exchanges.length;
    const call = async (sub: string) => {
      const token = await idp.sign({ sub });
      const client = await connectClient(a, 'streamable-http', {}, { authorization: `Bearer ${token}` });
      const seen: Record<string, { sub: string; aud: string; pid: number }> = {};
      for (const b of ['cluster', 'web', 'plain']) seen[b] = JSON.parse(textOf(await client.callTool({ name: `${b}_whoami`, arguments: {} })));
      return { client, seen };
    };
    const [dave, erin] = await Promise.all([call('dave'), call('erin')]);
    for (const [who, r] of [['dave', dave], ['erin', erin]] as const) {
      expect(r.seen.cluster).toMatchObject({ sub: who, aud: SERVER_AUDIENCE });
      expect(r.seen.web).toMatchObject({ sub: who, aud: 'https://web.example' });
      expect(r.seen.plain).toMatchObject({ sub: who, aud: 'https://default.example' });
    }
    expect(dave.seen.cluster!.pid).not.toBe(erin.seen.cluster!.pid); // a stdio backend per session
    // One exchange per user and audience, none with the caller's own audience.
    const made = idp.exchanges.slice(before).map((e) => `${e.sub} ${e.audience}`).sort();
    expect(made).toEqual(['dave https://default.example', 'dave https://kubernetes.example/api', 'dave https://web.example', 'erin https://default.example', 'erin https://kubernetes.example/api', 'erin https://web.example']);
    await Promise.all([dave.client.close(), erin.client.close()]);
  });

  it('a wrong exchange secret: the session is refused with the issuer\'s reason', async () => {
    writeFileSync(join(dir, 'wrong-secret'), 'not-the-secret');
    const a = await agent({ ...exchange, exchange: { ...exchange.exchange, clientSecretFile: join(dir, 'wrong-secret') } }, ['--', ...IDENTITY]);
    await expect(whoami(a, 'mallory')).rejects.toThrow(/token exchange refused by the issuer \(invalid_client/);
  });
});
