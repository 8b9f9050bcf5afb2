// MCPGateway on the real node: two Hosted MCPServers (server-everything, server-memory) and an
// MCPGateway selecting them by label. A TS SDK client through `kubectl port-forward` to the
// MCPGateway's Service lists the tools of both, prefixed with their backend, and calls one of
// each; the status lists both backends ready; a Cedar policy on resource.backend holds.
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
    const gw = await getJSON(['-n', NS, 'get', 'mcpgateway', 'hub']);
    expect(gw.status.backends.map((b: { name: string; ready: boolean; url: string }) => [b.name, b.ready, b.url])).toEqual([
      ['everything', true, `http://mcp-everything.${NS}.svc.cluster.local:8080/mcp`],
      ['memory', true, `http://mcp-memory.${NS}.svc.cluster.local:8080/mcp`],
    ]);
    const cond = (type: string) => gw.status.conditions.find((c: { type: string }) => c.type === type);
    expect(cond('Ready').status).toBe('True');
    expect(cond('BackendsReady')).toMatchObject({ status: 'True', message: '2/2 ready' });
  });
});
