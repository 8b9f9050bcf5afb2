// Webhook injection of plain workloads, the server container crashing under a running agent, and
// status that tells the truth about pods that do not run — all on the real node.
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { textOf } from '../agent/harness.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyExamples, EXAMPLES_DIR, eventually, getJSON, kubectl, mcpClient, portForward, useCluster, waitReady, type PortForward } from './kubectl.js';

const forwards: PortForward[] = [];
afterAll(() => forwards.forEach((f) => f.close()));

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));
beforeAll(applyExamples);

describe('webhook injection', () => {
  it('an annotated Deployment gets the agent; its policy ConfigMap filters the tools; re-applying is a no-op', async () => {
    await kubectl(['-n', 'mcp-tools', 'rollout', 'status', 'deployment/everything', '--timeout=180s'], { timeoutMs: 190_000 });
    const pods = await getJSON(['-n', 'mcp-tools', 'get', 'pods', '-l', 'app=everything']);
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0];
    expect(pod.spec.initContainers.map((c: { name: string }) => c.name)).toContain('mcp-agent');
    const f = await portForward('mcp-tools', 'svc/everything', 8080);
    forwards.push(f);
    const client = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'get-sum']);
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } }))).toContain('42');
    await client.close();

    const before = await getJSON(['-n', 'mcp-tools', 'get', 'deployment', 'everything']);
    await applyExamples();
    await new Promise((r) => setTimeout(r, 3000));
    const after = await getJSON(['-n', 'mcp-tools', 'get', 'deployment', 'everything']);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    const podsAfter = await getJSON(['-n', 'mcp-tools', 'get', 'pods', '-l', 'app=everything']);
    expect(podsAfter.items.map((p: { metadata: { uid: string } }) => p.metadata.uid)).toEqual([pod.metadata.uid]);
  });

  it('a plain Pod in a namespace labelled for injection gets the agent (command from the annotation); re-applying it changes nothing, replace is refused', async () => {
    await kubectl(['-n', 'team-tools', 'wait', '--for=condition=Ready', 'pod/memory', '--timeout=180s'], { timeoutMs: 190_000 });
    const f = await portForward('team-tools', 'pod/memory', 9000);
    forwards.push(f);
    const client = await mcpClient(`http://127.0.0.1:${f.port}/mcp`);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('read_graph');
    await client.close();

    // Re-applying the bare Pod (docs/injector.md): apply, client- or server-side, changes only
    // what the manifest sets, so the injected pod stays as it is; replace sends the whole pod
    // without the agent and is refused (pods cannot add or remove containers).
    const manifest = JSON.stringify(parseAllDocuments(await kubectl(['kustomize', EXAMPLES_DIR])).map((d) => d.toJSON()).find((d) => d?.kind === 'Pod' && d.metadata.name === 'memory'));
    const before = await getJSON(['-n', 'team-tools', 'get', 'pod', 'memory']);
    await kubectl(['apply', '-f', '-'], { input: manifest });
    await kubectl(['apply', '--server-side', '-f', '-'], { input: manifest });
    await expect(kubectl(['replace', '-f', '-'], { input: manifest })).rejects.toThrow(/may not add or remove containers/);
    const after = await getJSON(['-n', 'team-tools', 'get', 'pod', 'memory']);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.containers[0].command).toEqual(before.spec.containers[0].command);
    expect(after.spec.initContainers.map((c: { name: string }) => c.name)).toContain('mcp-agent');
  });
});

describe('the server container crashes under a running agent', () => {
  it('the agent re-initializes it: a 2025 session carries on, a 2026-07-28 client’s next call works', async () => {
    await waitReady('mcpserver', 'everything-fifo', 'mcp-demo');
    const f = await portForward('mcp-demo', 'svc/mcp-everything-fifo', 8080);
    forwards.push(f);
    const url = `http://127.0.0.1:${f.port}/mcp`;
    const legacy = await mcpClient(url);
    const sessionId = (legacy.transport as { sessionId?: string }).sessionId;
    expect(sessionId).toBeTruthy();
    const modern = new ClientV2({ name: 'e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new TransportV2(new URL(url)));
    expect(textOf(await modern.callTool({ name: 'echo', arguments: { message: 'before' } }))).toContain('before');

    // A live pod (another test may have just rolled this server: its old pods still terminate).
    const pod = (await getJSON(['-n', 'mcp-demo', 'get', 'pods', '-l', 'mcp.ome.io/mcpserver=everything-fifo'])).items.find(
      (p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp,
    );
    const server = pod.status.containerStatuses.find((c: { name: string }) => c.name === 'mcp');
    const restarts = server.restartCount as number;
    await killContainer(server.containerID.replace(/^containerd:\/\//, ''));
    await eventually('the server container restarted', async () => {
      const p = await getJSON(['-n', 'mcp-demo', 'get', 'pod', pod.metadata.name]);
      return p.status.containerStatuses.find((c: { name: string }) => c.name === 'mcp').restartCount > restarts;
    });
    // The first call may race the restart (-32001: retry); the session itself must survive.
    const answer = await eventually('echo through the same 2025 session', async () => textOf(await legacy.callTool({ name: 'echo', arguments: { message: 'after' } })) || undefined, 90_000, 1000);
    expect(answer).toContain('after');
    expect((legacy.transport as { sessionId?: string }).sessionId).toBe(sessionId);
    const modernAnswer = await eventually('a 2026-07-28 call', async () => textOf(await modern.callTool({ name: 'echo', arguments: { message: 'modern after' } })) || undefined, 60_000);
    expect(modernAnswer).toContain('modern after');
    await legacy.close();
    await modern.close();
  });
});

/** SIGKILL a container's process through the node's containerd, as a crash would. */
async function killContainer(id: string): Promise<void> {
  const socket = path.join(inject('e2eClusterDir'), 'node', 'containerd', 'containerd.sock');
  await promisify(execFile)('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', id]);
}

describe('status tells the truth', () => {
  const apply = (yaml: string) => kubectl(['apply', '-f', '-'], { input: yaml });
  const server = (name: string, extra: string) => `apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: {name: ${name}, namespace: mcp-demo}
spec:
  image: localhost/ome-mcp-test/servers:e2e
${extra}`;

  async function failedStatus(name: string): Promise<{ phase: string; ready: { status: string; reason: string; message: string } }> {
    return eventually(`${name} reported as not running, with the container's error`, async () => {
      const s = (await getJSON(['-n', 'mcp-demo', 'get', 'mcpserver', name])).status;
      const ready = s?.conditions?.find((c: { type: string }) => c.type === 'Ready');
      return s && ready && /container/.test(ready.message) ? { phase: s.phase, ready } : undefined;
    }, 180_000, 2000);
  }

  it('a server image that crashes: not Running, the reason names the container, restarts and exit code', async () => {
    await apply(server('crashing', `  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ["node", "-e", "console.error('cannot start: no config'); process.exit(3)"]`));
    const s = await failedStatus('crashing');
    expect(s.phase).not.toBe('Running');
    expect(s.ready.status).toBe('False');
    expect(s.ready.message).toMatch(/container mcp/);
    expect(s.ready.message).toMatch(/exit code 3|CrashLoopBackOff|restarts/);
  });

  it('an agent that cannot start (its config points at a file that is not there): not Running, the reason names the agent', async () => {
    await apply(server('agent-broken', `  authzConfig:
    type: configMap
    configMap: {name: absent-policies}`));
    // A missing ConfigMap is a config problem the reconciler sees itself …
    const invalid = await eventually('ConfigValid=False', async () => {
      const s = (await getJSON(['-n', 'mcp-demo', 'get', 'mcpserver', 'agent-broken'])).status;
      return s?.conditions?.find((c: { type: string; status: string }) => c.type === 'ConfigValid' && c.status === 'False');
    });
    expect(invalid.message).toMatch(/absent-policies/);
    // … an agent whose own start fails is seen in its container's state.
    await apply(server('agent-crash', `  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ["node", "dist/index.js", "stdio"]
  oidcConfig:
    type: inline
    inline: {issuer: "https://127.0.0.1:1", audience: nobody, thvCABundlePath: /nonexistent/ca.crt}`));
    const s = await failedStatus('agent-crash');
    expect(s.phase).not.toBe('Running');
    expect(s.ready.message).toMatch(/container mcp-agent/);
  });
});
