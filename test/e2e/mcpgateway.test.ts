// MCPGateway on the real node: two Hosted MCPServers (server-everything, server-memory) and an
// MCPGateway selecting them by label. A TS SDK client through `kubectl port-forward` to the
// MCPGateway's Service lists the tools of both, prefixed with their backend, and calls one of
// each; the status lists both backends ready; a Cedar policy on resource.backend holds. The
// status carries each backend's tool count and up as the gateway agent's own /readyz reports them
// (read by the injector from the pod); the Ingress it is exposed with points at the Service that
// served all this (no ingress controller runs on the test node: Exposed stays False, and says so).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { textOf } from '../agent/harness.js';
import { eventually, getJSON, kubectl, mcpClient, portForward, testServer, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-gateway';
const forwards: PortForward[] = [];

const objects = `
${testServer('everything', NS, ['node', 'dist/index.js', 'stdio'], '', { hub: 'yes' })}---
${testServer('memory', NS, ['node', '/usr/local/lib/node_modules/@modelcontextprotocol/server-memory/dist/index.js'], '', { hub: 'yes' })}---
apiVersion: ome.io/v1beta1
kind: MCPGateway
metadata: { name: hub, namespace: ${NS} }
spec:
  serverSelector: { matchLabels: { hub: "yes" } }
  ingress: { host: hub.example.test, tls: { secretName: hub-tls } }
  authzConfig:
    type: inline
    inline:
      policies:
        - 'permit(principal, action, resource);'
        - 'forbid(principal, action == Action::"call_tool", resource) when { resource has backend && resource.backend == "memory" && resource.name == "memory_delete_entities" };'
`;

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));

beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await eventually('the objects applied', async () => (await kubectl(['apply', '-f', '-'], { input: objects }), true), 60_000, 2000);
  await waitReady('mcpserver', 'everything', NS);
  await waitReady('mcpserver', 'memory', NS);
  await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'mcpgateway/hub', '--timeout=240s'], { timeoutMs: 250_000 });
});

afterAll(() => forwards.forEach((f) => f.close()));

describe('an MCPGateway in front of two MCPServers on the real node', () => {
  let client: Client;
  beforeAll(async () => {
    const f = await portForward(NS, 'svc/mcpgw-hub', 8080);
    forwards.push(f);
    client = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
  });
  afterAll(async () => client?.close());

  it('lists the prefixed tools of both backends and calls one of each', async () => {
    const names = await eventually('both backends listed', async () => {
      const n = (await client.listTools()).tools.map((t) => t.name);
      return n.some((x) => x.startsWith('everything_')) && n.some((x) => x.startsWith('memory_')) ? n : undefined;
    }, 60_000, 1000);
    expect(names).toEqual(expect.arrayContaining(['everything_echo', 'memory_read_graph']));
    expect(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'through the gateway' } }))).toContain('through the gateway');
    const graph = await client.callTool({ name: 'memory_read_graph', arguments: {} });
    expect(graph.isError).toBeFalsy();
  });

  it('Cedar sees the backend: the forbidden memory tool is refused, the rest served', async () => {
    const r = await client.callTool({ name: 'memory_delete_entities', arguments: { entityNames: ['x'] } }).then(
      (x) => JSON.stringify(x),
      (e: Error) => e.message,
    );
    expect(r).toMatch(/denied|not allowed|unknown tool|forbidden/i);
  });

  it('status: both backends ready, their Service URLs, the MCPGateway Ready', async () => {
    // Ready needs the agent's word too (read again every few seconds until every backend is up).
    const gw = await eventually('BackendsReady', async () => {
      const g = await getJSON(['-n', NS, 'get', 'mcpgateway', 'hub']);
      return g.status.conditions.find((c: { type: string; status: string }) => c.type === 'BackendsReady')?.status === 'True' ? g : undefined;
    }, 120_000, 2000);
    expect(gw.status.backends.map((b: { name: string; ready: boolean; url: string }) => [b.name, b.ready, b.url])).toEqual([
      ['everything', true, `http://mcp-everything.${NS}.svc.cluster.local:8080/mcp`],
      ['memory', true, `http://mcp-memory.${NS}.svc.cluster.local:8080/mcp`],
    ]);
    const cond = (type: string) => gw.status.conditions.find((c: { type: string }) => c.type === type);
    expect(cond('Ready').status).toBe('True');
    expect(cond('BackendsReady')).toMatchObject({ status: 'True', message: '2/2 ready' });
  });
});

describe("the agent's own view in the status, and the exposure", () => {
  it("each backend's real tool count and up, from the agent's /readyz", async () => {
    // What the gateway serves, per backend (no filter: each backend's whole list, prefixed).
    const f = await portForward(NS, 'svc/mcpgw-hub', 8080);
    forwards.push(f);
    const c = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
    let listed: string[];
    try {
      listed = (await c.listTools()).tools.map((t) => t.name);
    } finally {
      await c.close();
    }
    const count = (prefix: string) => listed.filter((n) => n.startsWith(`${prefix}_`)).length;
    expect(count('everything')).toBeGreaterThan(5);
    const backends = await eventually('tool counts in the status', async () => {
      const gw = await getJSON(['-n', NS, 'get', 'mcpgateway', 'hub']);
      const b = gw.status.backends as { name: string; up?: boolean; tools?: number; ready: boolean; message?: string }[];
      return b.every((x) => x.up === true && typeof x.tools === 'number' && x.tools > 0) ? b : undefined;
    }, 120_000, 2000);
    // The status counts what each backend lists; the merged list a caller sees is after policy,
    // and the Cedar policy above hides memory_delete_entities from it.
    expect(listed).not.toContain('memory_delete_entities');
    expect(backends.map((b) => [b.name, b.up, b.tools, b.ready])).toEqual([
      ['everything', true, count('everything'), true],
      ['memory', true, count('memory') + 1, true],
    ]);
    const gw = await getJSON(['-n', NS, 'get', 'mcpgateway', 'hub']);
    expect(gw.status.conditions.find((x: { type: string }) => x.type === 'BackendsReady')).toMatchObject({ status: 'True', message: '2/2 ready' });
  });

  it('the Ingress points at the Service that serves MCP; without an ingress controller Exposed is False and says why', async () => {
    const ing = await getJSON(['-n', NS, 'get', 'ingress', 'mcpgw-hub']);
    expect(ing.spec.tls).toEqual([{ hosts: ['hub.example.test'], secretName: 'hub-tls' }]);
    const backend = ing.spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: 'mcpgw-hub', port: { number: 8080 } });
    const f = await portForward(NS, `svc/${backend.name}`, backend.port.number);
    forwards.push(f);
    const c = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
    try {
      expect(textOf(await c.callTool({ name: 'everything_echo', arguments: { message: 'via the Ingress backend' } }))).toContain('via the Ingress backend');
    } finally {
      await c.close();
    }
    const gw = await getJSON(['-n', NS, 'get', 'mcpgateway', 'hub']);
    expect(gw.status.url).toBe('https://hub.example.test/mcp');
    expect(gw.status.conditions.find((x: { type: string }) => x.type === 'Exposed')).toMatchObject({ status: 'False', reason: 'NoAddress' });
  });
});
