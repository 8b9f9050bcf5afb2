import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { helpText, parseOptions, UsageError } from '../../agent/config/options.js';
import { installPair, mintLocalhost } from '../../agent/ops/testing/serving-certs.js';
import type { TlsMaterial } from '../../injector/webhook/tls.js';
import { PROBE, textOf, waitFor } from './harness.js';

/** The pair installed in `dir`, as flags. */
function tlsFlags(dir: string, m: Pick<TlsMaterial, 'cert' | 'key'>): string[] {
  const { certFile, keyFile } = installPair(dir, m);
  return ['--tls-cert-file', certFile, '--tls-key-file', keyFile];
}

/** A fetch that trusts `ca` alone, on connections of its own (a new dispatcher = new TLS handshakes). */
function trusting(ca: string): { fetch: typeof fetch; close: () => Promise<void> } {
  const dispatcher = new Agent({ connect: { ca } });
  return {
    fetch: ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch,
    close: () => dispatcher.close(),
  };
}

async function mcpClient(url: string, f: typeof fetch): Promise<Client> {
  const client = new Client({ name: 'tls-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: f }));
  return client;
}

async function start(args: string[]): Promise<RunningAgent> {
  const agent = await startAgent(await parseOptions(['--port', '0', ...args]), pino({ level: process.env.AGENT_LOG_LEVEL ?? 'silent' }));
  return agent;
}

describe('HTTPS and the ops port', () => {
  let dir: string;
  let first: TlsMaterial;
  let agent: RunningAgent;
  let ops: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
    first = await mintLocalhost();
    agent = await start(['--ops-port', '0', ...tlsFlags(dir, first), '--', ...PROBE]);
    ops = `http://127.0.0.1:${agent.opsPort}`;
    await waitFor(async () => (await fetch(`${ops}/readyz`)).status === 200, 15_000);
  });
  afterAll(async () => {
    await agent?.stop(1000);
  });

  it('an MCP SDK client that trusts the CA calls a tool over HTTPS; one that does not is refused', async () => {
    expect(agent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const t = trusting(first.ca);
    const client = await mcpClient(agent.url, t.fetch);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over tls' } }))).toBe('over tls');
    await client.close();
    await t.close();
    await expect(fetch(agent.url, { method: 'POST', body: '{}' })).rejects.toThrow(/fetch failed/);
    // Plain HTTP to the TLS port gets no MCP answer either.
    await expect(fetch(agent.url.replace('https:', 'http:'), { method: 'POST', body: '{}' }).then((r) => r.status)).rejects.toThrow();
  });

  it('/healthz, /readyz, /metrics are served on the ops port alone; the MCP port answers 404 for them', async () => {
    const t = trusting(first.ca);
    const base = agent.url.replace(/\/mcp$/, '');
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect((await t.fetch(base + path)).status, `MCP port ${path}`).toBe(404);
      expect((await fetch(ops + path)).status, `ops port ${path}`).toBe(200);
    }
    await t.close();
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toContain('ome_mcp_requests_total{method="tools/call",outcome="ok"}');
    expect(metrics).toContain('ome_mcp_agent_tls_certificate_expiry_timestamp_seconds');
    // The ops port carries no MCP.
    expect((await fetch(`${ops}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })).status).toBe(404);
  });

  it('a rotated certificate is served to new connections without a restart', async () => {
    const second = await mintLocalhost();
    tlsFlags(dir, second);
    await waitFor(async () => {
      const t = trusting(second.ca);
      try {
        return (await t.fetch(agent.url, { method: 'GET' })).status > 0;
      } finally {
        await t.close();
      }
    }, 5000);
    const t = trusting(second.ca);
    const client = await mcpClient(agent.url, t.fetch);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'rotated' } }))).toBe('rotated');
    await client.close();
    await t.close();
    expect(await (await fetch(`${ops}/metrics`)).text()).toMatch(/ome_mcp_agent_tls_reloads_total\{result="applied"\} 1/);
  });
});

describe('RFC 9728 metadata stays on the MCP port', () => {
  it('is served over HTTPS on the MCP port and not on the ops port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
    const m = await mintLocalhost();
    const config = join(dir, 'agent.json');
    const resource = 'https://localhost/mcp';
    writeFileSync(config, JSON.stringify({ resourceURL: resource, oidcConfig: { type: 'inline', inline: { issuer: 'https://issuer.example.com', jwksURL: 'https://issuer.example.com/jwks' } } }));
    const agent = await start(['--ops-port', '0', '--config', config, ...tlsFlags(dir, m), '--', ...PROBE]);
    try {
      const t = trusting(m.ca);
      const res = await t.fetch(agent.url.replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp'));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ resource });
      await t.close();
      expect((await fetch(`http://127.0.0.1:${agent.opsPort}/.well-known/oauth-protected-resource/mcp`)).status).toBe(404);
    } finally {
      await agent.stop(1000);
    }
  });
});

describe('TLS and ops options', () => {
  it('--help shows the flags', async () => {
    for (const flag of ['--ops-port', '--tls-cert-file', '--tls-key-file', '--tls-client-ca-file']) expect(helpText()).toContain(flag);
  });

  it('refuses a certificate without its key, and an ops port equal to the MCP port', async () => {
    await expect(parseOptions(['--tls-cert-file', 'a.crt', '--', 'x'])).rejects.toThrow(UsageError);
    await expect(parseOptions(['--tls-client-ca-file', 'ca.crt', '--', 'x'])).rejects.toThrow(/--tls-cert-file and --tls-key-file go together/);
    await expect(parseOptions(['--port', '9000', '--ops-port', '9000', '--', 'x'])).rejects.toThrow(/--ops-port must differ from --port/);
  });

  it('takes tls and opsPort from the config file and env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, 'opsPort: 9091\ntls:\n  certFile: /certs/tls.crt\n  keyFile: /certs/tls.key\n  clientCAFile: /certs/ca.crt\n');
    expect(await parseOptions(['--config', config, '--', 'x'], {})).toMatchObject({ opsPort: 9091, tls: { certFile: '/certs/tls.crt', keyFile: '/certs/tls.key', clientCAFile: '/certs/ca.crt' } });
    const fromEnv = await parseOptions(['--config', config, '--', 'x'], { OME_MCP_OPS_PORT: '9092', OME_MCP_TLS_CERT_FILE: '/other/tls.crt' });
    expect(fromEnv).toMatchObject({ opsPort: 9092, tls: { certFile: '/other/tls.crt', keyFile: '/certs/tls.key' } });
    expect(fromEnv.policy).not.toHaveProperty('tls');
  });

  it('an agent given an unusable certificate does not start, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
    const [a, b] = await Promise.all([mintLocalhost(), mintLocalhost()]);
    const args = tlsFlags(dir, { ...a, key: b.key });
    await expect(start([...args, '--', ...PROBE])).rejects.toThrow(/tls\.key is not the PEM private key of the certificate/);
  });
});
