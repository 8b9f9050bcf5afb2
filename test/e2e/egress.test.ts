// Egress on the real node: a server with a fetch tool (test/e2e/fixtures/fetch-server.mjs, mounted
// from a ConfigMap) under a permission profile that allows one host. The host's end of the veth
// serves an HTTP and an HTTPS origin; inside the pod two names point at it (hostAliases), one
// allowed and one not. The server reaches out through the agent's egress proxy (HTTP_PROXY /
// HTTPS_PROXY from the reconciler; Node 24's fetch honours them with NODE_USE_ENV_PROXY=1).
// The test node's bridge CNI does not enforce NetworkPolicy (docs/k8s-test-harness.md): the
// policy's shape is checked here, its enforcement is the CNI's.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateTls } from '../../injector/webhook/tls.js';
import { textOf } from '../agent/harness.js';
import { getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));

const NS = 'mcp-egress';
const NAME = 'egress-fetch';
const servers: Server[] = [];
const forwards: PortForward[] = [];
let client: Client;
let httpPort: number;
let httpsPort: number;
let closedPort: number;
let hostIP: string;

async function listen(server: Server, host: string): Promise<number> {
  servers.push(server.listen(0, host));
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}
const hello = (what: string) => (req: IncomingMessage, res: ServerResponse) => res.end(`${what} hello ${req.headers.host} ${req.url}`);
const call = async (url: string) => {
  const r = await client.callTool({ name: 'fetch', arguments: { url } });
  return { text: textOf(r), isError: r.isError === true };
};

beforeAll(async () => {
  hostIP = inject('e2eHostIP');
  const tls = await generateTls({ dnsNames: ['allowed.test'] });
  httpPort = await listen(createHttpServer(hello('plain')), hostIP);
  httpsPort = await listen(createHttpsServer({ cert: tls.cert, key: tls.key }, hello('tls')), hostIP);
  closedPort = await listen(createHttpServer(hello('never')), hostIP);
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }) });
  const fixture = readFileSync(fileURLToPath(new URL('./fixtures/fetch-server.mjs', import.meta.url)), 'utf8');
  await kubectl(['apply', '--server-side', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fetch-tool', namespace: NS }, data: { 'fetch-server.mjs': fixture, 'ca.pem': tls.ca } }),
  });
  const server = {
    apiVersion: 'ome.io/v1beta1',
    kind: 'MCPServer',
    metadata: { name: NAME, namespace: NS },
    spec: {
      image: 'localhost/ome-mcp-test/servers:e2e',
      podTemplateSpec: {
        spec: {
          hostAliases: [{ ip: hostIP, hostnames: ['allowed.test', 'other.test'] }],
          containers: [{ name: 'mcp', command: ['node', '/tool/fetch-server.mjs'] }],
        },
      },
      env: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/tool/ca.pem' }],
      volumes: [{ name: 'tool', configMap: { name: 'fetch-tool' } }],
      volumeMounts: [{ name: 'tool', mountPath: '/tool' }],
      permissionProfile: { type: 'inline', inline: { read: ['/tool'], network: { outbound: { allowHost: ['allowed.test'], allowPort: [httpPort, httpsPort] } } } },
    },
  };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(server) });
  await waitReady('mcpserver', NAME, NS);
  const f = await portForward(NS, `svc/mcp-${NAME}`, 8080);
  forwards.push(f);
  client = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
});
afterAll(async () => {
  await client?.close();
  forwards.forEach((f) => f.close());
  servers.forEach((s) => s.close());
});

describe('egress through the agent proxy on the real node', () => {
  it('the fetch tool reaches the allowed host through the proxy: HTTP, and HTTPS in a CONNECT tunnel', async () => {
    expect(await call(`http://allowed.test:${httpPort}/a?b=c`)).toEqual({ text: `200\nplain hello allowed.test:${httpPort} /a?b=c`, isError: false });
    expect(await call(`https://allowed.test:${httpsPort}/secure`)).toEqual({ text: `200\ntls hello allowed.test:${httpsPort} /secure`, isError: false });
  });

  it('refuses another host on an allowed port, the allowed host on another port and the metadata address; the agent logs each without path or query', async () => {
    for (const url of [`http://other.test:${httpPort}/?token=s3cret`, `https://other.test:${httpsPort}/`, `http://allowed.test:${closedPort}/`, 'http://169.254.169.254/latest/meta-data/']) {
      const r = await call(url);
      expect(r.isError, `${url}: ${r.text}`).toBe(true);
      expect(r.text, url).not.toMatch(/hello/);
    }
    const logs = await kubectl(['-n', NS, 'logs', `deployment/mcp-${NAME}`, '-c', 'mcp-agent']);
    const denied = logs.split('\n').filter((l) => l.includes('egress denied'));
    expect(denied.some((l) => l.includes('"host":"other.test"') && l.includes(`"port":${httpPort}`))).toBe(true);
    expect(denied.some((l) => l.includes(`port ${closedPort} is not in the permission profile's allowPort`))).toBe(true);
    expect(logs).not.toContain('s3cret');
  });

  it('the pod: proxy variables in the server container, the read path mounted read-only, the egress section in the agent config', async () => {
    const d = await getJSON(['-n', NS, 'get', 'deployment', `mcp-${NAME}`]);
    const mcp = d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'mcp');
    const env = Object.fromEntries(mcp.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ HTTP_PROXY: 'http://127.0.0.1:3128', HTTPS_PROXY: 'http://127.0.0.1:3128', https_proxy: 'http://127.0.0.1:3128', NO_PROXY: 'localhost,127.0.0.1,::1', NODE_USE_ENV_PROXY: '1', NODE_EXTRA_CA_CERTS: '/tool/ca.pem' });
    expect(mcp.volumeMounts).toContainEqual({ name: 'tool', mountPath: '/tool', readOnly: true });
    const cm = await getJSON(['-n', NS, 'get', 'configmap', `mcp-${NAME}-agent`]);
    const config = JSON.parse(Object.values(cm.data as Record<string, string>)[0]!);
    expect(config.egress).toEqual({ port: 3128, allowHost: ['allowed.test'], allowPort: [httpPort, httpsPort] });
  });

  it("the NetworkPolicy: default-deny egress, DNS, and the allowed ports to any address but link-local (a name cannot be matched by a policy)", async () => {
    const np = await getJSON(['-n', NS, 'get', 'networkpolicy', `mcp-${NAME}`]);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ports = [httpPort, httpsPort].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP', port }));
    expect(np.spec.egress).toEqual([
      { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }, { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } }, { namespaceSelector: {} }], ports },
    ]);
  });

  it('the runnable example 19 runs as written: Ready, its proxy variables and read-only notes', async () => {
    const example = readFileSync(fileURLToPath(new URL('../../manifests/examples/runnable/19-egress.yaml', import.meta.url)), 'utf8').replaceAll('mcp/everything:latest', 'localhost/ome-mcp-test/servers:e2e');
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mcp-demo' } }) });
    await kubectl(['apply', '--server-side', '-f', '-'], { input: example });
    await waitReady('mcpserver', 'everything-egress', 'mcp-demo');
    const d = await getJSON(['-n', 'mcp-demo', 'get', 'deployment', 'mcp-everything-egress']);
    const mcp = d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'mcp');
    expect(mcp.env).toContainEqual({ name: 'HTTPS_PROXY', value: 'http://127.0.0.1:3128' });
    expect(mcp.volumeMounts).toContainEqual({ name: 'notes', mountPath: '/etc/mcp/notes', readOnly: true });
    const np = await getJSON(['-n', 'mcp-demo', 'get', 'networkpolicy', 'mcp-everything-egress']);
    expect(np.spec.egress.at(-1).ports).toEqual([{ protocol: 'TCP', port: 443 }]);
  });
});
