// An injected pod, run as local processes (test/pod-runner.ts): the bridge init container copies
// busybox and makes the FIFOs, the agent (node dist/agent.js with exactly the injected args and
// env) starts as a native sidecar, the server runs under the FIFO wrapper, and an MCP client lists
// and calls tools through the agent's port — also after the server container restarts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutatePod } from '../injector/mutation/index.js';
import { connectMcp as connect, ensureAgentBundle, localAgentImage, runPod, type RunningPod } from './pod-runner.js';
import { freePort } from './free-port.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ECHO = fileURLToPath(new URL('../agent/upstream/testdata/echo-server.mjs', import.meta.url));
const AGENT_IMAGE = 'ome-mcp/agent:test';



describe('injected pod, run locally', () => {
  let pod: RunningPod;
  let port: number;
  let opsPort: number;
  const log: string[] = [];

  beforeAll(async () => {
    ensureAgentBundle();
    port = await freePort();
    opsPort = await freePort();
    const original: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo-0', namespace: 'tools', annotations: { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/port': String(port), 'mcp.ome.io/ops-port': String(opsPort) } },
      spec: { containers: [{ name: 'mcp', image: 'echo-server:test', command: [process.execPath, ECHO] }] },
    };
    const r = mutatePod({ object: original, optIn: 'pod', settings: { agentImage: AGENT_IMAGE } });
    if (r.outcome !== 'injected') throw new Error(`not injected: ${JSON.stringify(r)}`);
    pod = await runPod({
      pod: r.object,
      images: { [AGENT_IMAGE]: localAgentImage(), 'echo-server:test': {} },
      cwd: root,
      onOutput: (c, line) => log.push(`[${c}] ${line}`),
    });
    await pod.waitReady('mcp-agent');
  }, 60_000);

  afterAll(async () => {
    await pod?.stop();
  });

  it('runs the injected containers with the injected arguments', () => {
    const agent = pod.containers.get('mcp-agent')!;
    expect(agent.argv.slice(2)).toEqual(['--host', '127.0.0.1', '--port', String(port), '--ops-port', String(opsPort), '--upstream-fifo', `${pod.dir}/volumes/ome-mcp-bridge`]);
    expect(pod.containers.get('mcp')!.argv[0]).toBe(`${pod.dir}/volumes/ome-mcp-bridge/busybox`);
    expect(existsSync(`${pod.dir}/volumes/ome-mcp-bridge/busybox`)).toBe(true);
  });

  it('serves MCP through the agent port: list and call tools', async () => {
    const client = await connect(port);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['echo', 'pid']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'through the pod' } });
      expect(result.content).toEqual([{ type: 'text', text: 'through the pod' }]);
    } finally {
      await client.close();
    }
  });

  it('survives a restart of the server container (EOF, kubelet restart, re-initialize)', async () => {
    const client = await connect(port);
    try {
      const before = ((await client.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0]!.text;
      pod.kill('mcp');
      const deadline = Date.now() + 30_000;
      let after: string | undefined;
      while (!after) {
        try {
          after = ((await client.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0]!.text;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`no answer after the restart: ${(err as Error).message}\n${log.slice(-20).join('\n')}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(after).not.toBe(before);
      expect(pod.containers.get('mcp')!.restarts).toBe(1);
    } finally {
      await client.close();
    }
  }, 40_000);
});
