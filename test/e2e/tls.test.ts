// HTTPS on the real node (manifests/examples/runnable/17-tls.yaml): the MCPServer's agent serves
// the certificate of a kubernetes.io/tls Secret the test mints a CA for; the kubelet probes the
// plain-HTTP ops port; a TS SDK client through kubectl port-forward verifies the CA and calls a
// tool; /metrics is only on the ops port; a renewed Secret is served with no pod restart.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateTls, type TlsMaterial } from '../../injector/webhook/tls.js';
import { textOf } from '../agent/harness.js';
import { applyExamples, eventually, getJSON, kubectl, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-demo';
const NAME = 'everything-tls';
const SERVICE = `mcp-${NAME}`;

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
const forwards: PortForward[] = [];
const dispatchers: Agent[] = [];
afterAll(async () => {
  forwards.forEach((f) => f.close());
  await Promise.all(dispatchers.map((d) => d.close()));
});

/** A certificate for the Service's names, and for 127.0.0.1 (where kubectl port-forward listens). */
const mint = () => generateTls({ dnsNames: [`${SERVICE}.${NS}.svc`, `${SERVICE}.${NS}.svc.cluster.local`, 'localhost'], ipAddresses: ['127.0.0.1'], validityDays: 2 });

const applySecret = (m: TlsMaterial) =>
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: NAME, namespace: NS },
      data: { 'tls.crt': Buffer.from(m.cert).toString('base64'), 'tls.key': Buffer.from(m.key).toString('base64') },
    }),
  });

/** fetch over connections of its own that trust `ca` alone. */
function trusting(ca: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca } });
  dispatchers.push(dispatcher);
  return ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

async function callEcho(url: string, f: typeof fetch, message: string): Promise<string> {
  const client = new Client({ name: 'ome-mcp-e2e-tls', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: f }));
  try {
    return textOf(await client.callTool({ name: 'echo', arguments: { message } }));
  } finally {
    await client.close();
  }
}

async function forward(target: string, port: number): Promise<number> {
  const f = await portForward(NS, target, port);
  forwards.push(f);
  return f.port;
}

let first: TlsMaterial;
let mcpUrl: string;
let opsUrl: string;

beforeAll(async () => {
  first = await mint();
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await applySecret(first);
  await applyExamples();
  await waitReady('mcpserver', NAME, NS);
  mcpUrl = `https://127.0.0.1:${await forward(`svc/${SERVICE}`, 8080)}/mcp`;
  opsUrl = `http://127.0.0.1:${await forward(`deployment/${SERVICE}`, 9090)}`;
});

describe('an MCPServer with spec.tls', () => {
  it('is Ready (the kubelet probes the ops port), says https in its status and Service, and mounts the Secret into the agent alone', async () => {
    const server = await getJSON(['-n', NS, 'get', 'mcpserver', NAME]);
    expect(server.status.url).toBe(`https://${SERVICE}.${NS}.svc.cluster.local:8080/mcp`);
    const service = await getJSON(['-n', NS, 'get', 'service', SERVICE]);
    expect(service.spec.ports[0].appProtocol).toBe('https');
    const template = (await getJSON(['-n', NS, 'get', 'deployment', SERVICE])).spec.template;
    const agent = template.spec.initContainers.find((c: { name: string }) => c.name === 'mcp-agent');
    expect(agent.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 9090, scheme: 'HTTP' });
    expect(agent.volumeMounts).toContainEqual({ name: 'ome-mcp-tls', mountPath: '/etc/ome-mcp-tls', readOnly: true });
    const mcp = template.spec.containers.find((c: { name: string }) => c.name === 'mcp');
    expect(JSON.stringify(mcp.volumeMounts ?? [])).not.toContain('ome-mcp-tls');
    expect(template.metadata.annotations['prometheus.io/port']).toBe('9090');
  });

  it('a TS SDK client that trusts the CA calls a tool through port-forward; one that does not is refused', async () => {
    expect(await callEcho(mcpUrl, trusting(first.ca), 'over https')).toContain('over https');
    await expect(fetch(mcpUrl, { method: 'POST', body: '{}' })).rejects.toThrow(/fetch failed/);
  });

  it('/metrics and the probes are served on the ops port, 404 on the MCP port', async () => {
    const viaMcp = trusting(first.ca);
    for (const path of ['/metrics', '/readyz', '/healthz']) {
      expect((await viaMcp(mcpUrl.replace(/\/mcp$/, path))).status, `MCP port ${path}`).toBe(404);
      expect((await fetch(opsUrl + path)).status, `ops port ${path}`).toBe(200);
    }
    const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
    expect(metrics).toContain('ome_mcp_requests_total{method="tools/call",outcome="ok"}');
    expect(metrics).toContain('ome_mcp_agent_tls_certificate_expiry_timestamp_seconds');
    expect((await fetch(`${opsUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
  });

  it('a renewed Secret is served to new connections, same pod, no restart', async () => {
    const pods = async () =>
      (await getJSON(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/instance=${NAME}`])).items
        .filter((p: any) => !p.metadata.deletionTimestamp)
        .map((p: any) => `${p.metadata.uid}:${[...p.status.initContainerStatuses, ...p.status.containerStatuses].map((c: any) => c.restartCount).join(',')}`);
    const before = await pods();
    const second = await mint();
    const t0 = Date.now();
    await applySecret(second);
    // Each try on fresh connections: an open one keeps the certificate it was handshaken with.
    await eventually('the renewed certificate served', async () => (await callEcho(mcpUrl, trusting(second.ca), 'renewed')).includes('renewed'), 120_000, 1000);
    console.log(`[tls] renewed certificate served ${Date.now() - t0} ms after kubectl apply of the Secret`);
    expect(await pods()).toEqual(before);
    expect(await (await fetch(`${opsUrl}/metrics`)).text()).toMatch(/ome_mcp_agent_tls_reloads_total\{result="applied"\} [1-9]/);
    expect(await kubectl(['-n', NS, 'logs', `deployment/${SERVICE}`, '-c', 'mcp-agent'])).toContain('TLS certificate reloaded');
  });

  it('a missing Secret is a status problem that names it', async () => {
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'ome.io/v1beta1', kind: 'MCPServer', metadata: { name: 'tls-missing', namespace: NS }, spec: { image: 'localhost/ome-mcp-test/servers:e2e', tls: { secretName: 'no-such-tls' } } }),
    });
    const message = await eventually('a status for tls-missing', async () => (await getJSON(['-n', NS, 'get', 'mcpserver', 'tls-missing'])).status?.message as string | undefined, 60_000);
    expect(message).toContain(`spec.tls.secretName: Secret ${NS}/no-such-tls not found`);
    await kubectl(['-n', NS, 'delete', 'mcpserver', 'tls-missing', '--wait=false']);
  });
});
