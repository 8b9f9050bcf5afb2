// The agent binary with --upstream-attach, end to end: it finds the API server and its token in a
// kubeconfig (as in a pod it finds the service account), attaches over the channel protocol to a
// WebSocket server standing in for the API server (no kubelet here), and an MCP client lists and
// calls tools through the agent's port — also after the "container" restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../agent/upstream/testdata/fake-attach-server.js';
import { connectMcp, ensureAgentBundle } from './pod-runner.js';
import { freePort } from './free-port.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let api: FakeApiServer;
let agent: ChildProcess;
let dir: string;
let port: number;
const log: string[] = [];


async function waitReady(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`agent not ready:\n${log.slice(-20).join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  ensureAgentBundle();
  api = new FakeApiServer();
  const server = await api.listen();
  api.startContainer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'attach-agent-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // Plain HTTP on loopback: client-node accepts it only with insecure-skip-tls-verify.
      'clusters: [{name: fake, cluster: {server: "' + server + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: agent, user: {token: pod-sa-token}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: agent}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  port = await freePort();
  agent = spawn(process.execPath, [process.env.OME_MCP_AGENT_JS ?? 'dist/agent.js', '--host', '127.0.0.1', '--port', String(port), '--upstream-attach', 'tools/echo-0/mcp'], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  agent.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  agent.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  await waitReady();
}, 60_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    await new Promise<void>((resolve) => {
      agent.once('exit', () => resolve());
      agent.kill('SIGTERM');
      setTimeout(() => agent.kill('SIGKILL'), 5000).unref();
    });
  }
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ome-mcp-agent --upstream-attach', () => {
  it('attaches with the kubeconfig credentials and serves MCP through the agent port', async () => {
    expect(api.requests[0]!.url).toBe('/api/v1/namespaces/tools/pods/echo-0/attach?container=mcp&stdin=true&stdout=true&stderr=true');
    expect(api.requests[0]!.auth).toBe('Bearer pod-sa-token');
    const client = await connectMcp(port);
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'pid']);
      expect((await client.callTool({ name: 'echo', arguments: { text: 'attached' } })).content).toEqual([{ type: 'text', text: 'attached' }]);
    } finally {
      await client.close();
    }
  });

  it('re-attaches and re-initializes after the container restarted', async () => {
    const client = await connectMcp(port);
    try {
      const pid = async () => ((await client.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0]!.text;
      const before = await pid();
      api.container!.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      api.startContainer(); // the kubelet restarting it
      const deadline = Date.now() + 30_000;
      let after: string | undefined;
      while (!after) {
        try {
          after = await pid();
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`${(err as Error).message}\n${log.slice(-20).join('')}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(after).not.toBe(before);
    } finally {
      await client.close();
    }
  }, 40_000);
});
