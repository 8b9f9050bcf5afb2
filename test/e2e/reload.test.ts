// Settings reach running pods, on the real node: a Cedar policy edited in the MCPServer is obeyed
// by the next call of an open session within seconds, with no pod restart and no rollout (the
// reconciler rewrites the agent's ConfigMap and nudges the kubelet; the agent reloads in place).
// A broken policy never reaches the pod: status says why and the last good policy stays in force.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eventually, everythingServer, getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-reload';
const NAME = 'everything-reload';
const policies = (tool: string) => [`permit(principal, action == Action::"list_tools", resource);`, `permit(principal, action == Action::"call_tool", resource == Tool::"${tool}");`];
const server = (list: string[]) =>
  everythingServer(NAME, NS, `  authzConfig:
    type: inline
    inline:
      policies: ${JSON.stringify(list)}
`);

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
let forward: PortForward;
let client: Client;
const call = (name: string, args: Record<string, unknown>) =>
  client.callTool({ name, arguments: args }).then(
    (r) => (r.isError ? 'tool error' : 'ok'),
    (e: Error) => (/Forbidden/.test(e.message) ? 'denied' : `failed: ${e.message}`),
  );
const echo = () => call('echo', { message: 'hi' });
const sum = () => call('get-sum', { a: 1, b: 2 });
const agentPod = async () => {
  const pods = await getJSON(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/instance=${NAME}`]);
  const live = pods.items.filter((p: any) => !p.metadata.deletionTimestamp);
  expect(live).toHaveLength(1);
  const p = live[0];
  return { uid: p.metadata.uid as string, restarts: p.status.containerStatuses.map((c: any) => c.restartCount).join(',') };
};

beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await kubectl(['apply', '-f', '-'], { input: server(policies('echo')) });
  await waitReady('mcpserver', NAME, NS);
  forward = await portForward(NS, `svc/mcp-${NAME}`, 8080);
  client = await mcpClient(`http://127.0.0.1:${forward.port}/mcp`);
});
afterAll(async () => {
  await client?.close().catch(() => {});
  forward?.close();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => {});
});

describe('policy changes reach the running pod', () => {
  it('the open session obeys an edited Cedar policy within seconds; same pod, no restart, no rollout', async () => {
    expect(await echo()).toBe('ok');
    expect(await sum()).toBe('denied');
    const pod = await agentPod();
    const template = (await getJSON(['-n', NS, 'get', 'deployment', `mcp-${NAME}`])).spec.template.metadata.annotations['mcp.ome.io/config-hash'];

    const t0 = Date.now();
    await kubectl(['apply', '-f', '-'], { input: server(policies('get-sum')) });
    await eventually('the new policy in force', async () => (await sum()) === 'ok', 90_000, 250);
    const tookMs = Date.now() - t0;
    console.log(`[reload] edited policy obeyed ${tookMs} ms after kubectl apply`);
    expect(await echo()).toBe('denied');
    expect(tookMs).toBeLessThan(15_000);

    expect(await agentPod()).toEqual(pod);
    const after = await getJSON(['-n', NS, 'get', 'deployment', `mcp-${NAME}`]);
    expect(after.spec.template.metadata.annotations['mcp.ome.io/config-hash']).toBe(template);
    const logs = await kubectl(['-n', NS, 'logs', `deployment/mcp-${NAME}`, '-c', 'mcp-agent']);
    expect(logs).toContain('agent config reloaded: authzConfig');
  });

  it('a broken policy is reported on status and never reaches the pod: the last good one stays in force', async () => {
    await kubectl(['apply', '-f', '-'], { input: server(['permit(principal, action == , resource);']) });
    const cond = await eventually('the problem on status', async () => {
      const s = await getJSON(['-n', NS, 'get', 'mcpserver', NAME]);
      return (s.status?.conditions ?? []).find((c: any) => c.type === 'ConfigValid' && c.status === 'False' && /Cedar/.test(c.message));
    }, 60_000);
    expect(cond.reason).toBe('InvalidConfig');
    expect(await sum()).toBe('ok');
    expect(await echo()).toBe('denied');
  });
});
