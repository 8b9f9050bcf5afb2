// A real MCP server behind the agent reaching the network through the agent's egress proxy: the
// client calls the fixture's `fetch` tool through the agent, the server's request goes through
// the proxy (HTTP_PROXY / HTTPS_PROXY, as the reconciler sets them in a pod), and the proxy
// allows the profile's destinations only.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { generateTls } from '../../injector/webhook/tls.js';
import { connectClient, startTestAgent, textOf } from './harness.js';
import { freePort } from '../free-port.js';

const servers: Server[] = [];
async function listen(server: Server): Promise<number> {
  servers.push(server.listen(0, '127.0.0.1'));
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

let agent: RunningAgent;
let client: Client;
let httpPort: number;
let httpsPort: number;
let closedPort: number;
const fetchTool = async (url: string) => {
  const r = await client.callTool({ name: 'fetch', arguments: { url } });
  return { text: textOf(r), isError: r.isError === true };
};

beforeAll(async () => {
  httpPort = await listen(createHttpServer((req, res) => res.end(`plain hello ${req.url}`)));
  const tls = await generateTls({ dnsNames: [], ipAddresses: ['127.0.0.1'] });
  httpsPort = await listen(createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => res.end(`tls hello ${req.url}`)));
  closedPort = await listen(createHttpServer((_req, res) => res.end('must not be reached')));
  const dir = mkdtempSync(join(tmpdir(), 'egress-'));
  writeFileSync(join(dir, 'ca.pem'), tls.ca);
  const proxyPort = await freePort();
  const proxy = `http://127.0.0.1:${proxyPort}`;
  // The env a pod's server container gets from the reconciler (desired.ts), plus the test CA.
  const env = [`HTTP_PROXY=${proxy}`, `HTTPS_PROXY=${proxy}`, 'NO_PROXY=localhost,::1', 'NODE_USE_ENV_PROXY=1', `NODE_EXTRA_CA_CERTS=${join(dir, 'ca.pem')}`];
  // The origins listen on loopback, which a name never reaches: the IP entry opens it explicitly.
  agent = await startTestAgent([
    '--egress-port', String(proxyPort), '--egress-allow-host', '127.0.0.1', '--egress-allow-port', `${httpPort},${httpsPort}`,
    '--', 'env', ...env, process.execPath, 'test/e2e/fixtures/fetch-server.mjs',
  ]);
  client = await connectClient(agent);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await agent?.stop(1000);
  servers.forEach((s) => s.close());
});

describe('a stdio server reaching out through the agent egress proxy', () => {
  it('reaches an allowed origin over HTTP and over HTTPS (a CONNECT tunnel, TLS from the server to the origin)', async () => {
    expect(await fetchTool(`http://127.0.0.1:${httpPort}/a?b=c`)).toEqual({ text: '200\nplain hello /a?b=c', isError: false });
    expect(await fetchTool(`https://127.0.0.1:${httpsPort}/secure`)).toEqual({ text: '200\ntls hello /secure', isError: false });
  });

  it('is refused another port, another host and the metadata address (the proxy answers 403; undici reports a failed tunnel)', async () => {
    for (const url of [`http://127.0.0.1:${closedPort}/`, `https://api.github.com:${httpsPort}/`, `http://169.254.169.254:${httpPort}/latest/meta-data/`]) {
      const r = await fetchTool(url);
      expect(r.isError, url).toBe(true);
      expect(r.text, url).toMatch(/^fetch failed/);
    }
  });

  it('counts each decision in the agent metrics', async () => {
    const metrics = await (await fetch(agent.url.replace('/mcp', '/metrics'))).text();
    expect(metrics).toMatch(/ome_mcp_agent_egress_requests_total\{decision="allowed"\} [1-9]/);
    expect(metrics).toMatch(/ome_mcp_agent_egress_requests_total\{decision="denied"\} 3\b/);
  });
});
