// An MCPGateway in front of servers of three kinds on the real node — server-everything (twice,
// to make a name clash), server-filesystem and a Python SDK server — with collision: priority:
// the higher-priority backend wins `echo`, a rename keeps the other's. Both protocol revisions
// and both SDK clients through one endpoint; a policy for one backend only; a backend whose pod
// is deleted loses its tools while the rest keep working, and gets them back when its pod returns.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { textOf } from '../agent/harness.js';
import { eventually, kubectl, mcpClient, portForward, testServer, useCluster, waitReady, type PortForward } from './kubectl.js';

const NS = 'mcp-gateway-mix';
const forwards: PortForward[] = [];

const objects = `
${testServer('everything', NS, ['node', 'dist/index.js', 'stdio'], '')}---
${testServer('files', NS, ['node', '/srv/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/srv'], '')}---
apiVersion: ome.io/v1beta1
kind: MCPServer
metadata: { name: py, namespace: ${NS} }
spec:
  image: localhost/ome-mcp-test/python:e2e
  podTemplateSpec:
    spec:
      containers:
        - name: mcp
          command: ["/opt/venv/bin/python", "/srv/server.py"]
---
apiVersion: ome.io/v1beta1
kind: MCPGateway
metadata: { name: mix, namespace: ${NS} }
spec:
  aggregate: { collision: priority }
  backends:
    - { name: low, serverRef: { name: everything }, toolsFilter: [echo, get-sum], rename: { echo: echo_low } }
    - { name: high, serverRef: { name: everything }, toolsFilter: [echo], priority: 1 }
    - { serverRef: { name: files }, toolsFilter: [list_allowed_directories, list_directory, write_file] }
    - { serverRef: { name: py } }
  authzConfig:
    type: inline
    inline:
      policies:
        - 'permit(principal, action, resource);'
        - 'forbid(principal, action == Action::"call_tool", resource) when { resource has backend && resource.backend == "files" && resource.name == "write_file" };'
`;

useCluster(inject('e2eKubeconfig'), inject('e2eClusterDir'));

let url = '';
beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]).catch(() => {});
  await eventually('the objects applied', async () => (await kubectl(['apply', '-f', '-'], { input: objects }), true), 60_000, 2000);
  for (const s of ['everything', 'files', 'py']) await waitReady('mcpserver', s, NS);
  await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'mcpgateway/mix', '--timeout=240s'], { timeoutMs: 250_000 });
  const f = await portForward(NS, 'svc/mcpgw-mix', 8080);
  forwards.push(f);
  url = `http://127.0.0.1:${f.port}/mcp`;
});
afterAll(() => forwards.forEach((f) => f.close()));

const backendOf = (tool: { _meta?: Record<string, unknown> }) => tool._meta?.['ome.io/backend'];

describe('an MCPGateway of mixed servers, collision: priority, on the real node', () => {
  let client: Client;
  beforeAll(async () => {
    client = await mcpClient(url);
  });
  afterAll(async () => client?.close());

  it('the clash goes to the higher priority, the rename keeps the other; every kind of server is listed', async () => {
      const tools = await eventually('all four backends listed', async () => {
      const t = (await client.listTools()).tools;
      const names = t.map((x) => x.name);
      return ['echo', 'echo_low', 'get-sum', 'list_directory', 'shout'].every((n) => names.includes(n)) ? t : undefined;
    }, 90_000, 1000);
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(backendOf(byName.get('echo')!)).toBe('high');
    expect(backendOf(byName.get('echo_low')!)).toBe('low');
    expect(backendOf(byName.get('shout')!)).toBe('py');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'to high' } }))).toContain('to high');
    expect(textOf(await client.callTool({ name: 'echo_low', arguments: { message: 'to low' } }))).toContain('to low');
    expect(textOf(await client.callTool({ name: 'list_allowed_directories', arguments: {} }))).toContain('/srv');
  });

  it('the policy of one backend: its write_file is refused, its reads and the other backends served', async () => {
    const denied = await client.callTool({ name: 'write_file', arguments: { path: '/srv/x', content: 'x' } }).then(
      (x) => JSON.stringify(x),
      (e: Error) => e.message,
    );
    expect(denied).toMatch(/denied|forbidden|not allowed|unknown tool/i);
    expect(textOf(await client.callTool({ name: 'list_directory', arguments: { path: '/srv' } }))).toContain('node_modules');
    expect(textOf(await client.callTool({ name: 'shout', arguments: { text: 'still here' } }))).toBe('STILL HERE');
  });

  it('a 2026-07-28 client (v2 SDK) and the Python SDK client through the same endpoint', async () => {
    const modern = new ClientV2({ name: 'e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new TransportV2(new URL(url)));
    expect(textOf(await modern.callTool({ name: 'shout', arguments: { text: 'modern' } }))).toBe('MODERN');
    expect(textOf(await modern.callTool({ name: 'echo', arguments: { message: 'modern echo' } }))).toContain('modern echo');
    await modern.close();

    const py = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
    if (!existsSync(py)) return void console.warn('skipped the Python client: no .venv (created by .ci/run)');
    const script = fileURLToPath(new URL('../fixtures/py_client.py', import.meta.url));
    const out = JSON.parse(execFileSync(py, [script, 'streamable-http', url, 'shout', JSON.stringify({ text: 'from python' })], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!);
    expect(out.server).toBe('ome-mcp-aggregate');
    expect(out.tools).toEqual(expect.arrayContaining(['echo', 'shout', 'list_directory']));
    expect(out.text).toBe('FROM PYTHON');
  });

  it("a backend's pod gone: its tools go, the others keep working; a new pod brings them back", async () => {
    // Scaled to 0 rather than one pod deleted: a replacement can be serving (and, with the state
    // key, resume the gateway's session) before a poll sees the gap.
    const started = Date.now();
    await kubectl(['-n', NS, 'patch', 'mcpserver', 'py', '--type=merge', '-p', '{"spec":{"replicas":0}}']);
    // fail-open (the default): withdrawn from the list while down, the rest answered meanwhile.
    await eventually('shout withdrawn', async () => !(await client.listTools()).tools.some((t) => t.name === 'shout'), 90_000, 500);
    const gone = Date.now() - started;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'meanwhile' } }))).toContain('meanwhile');
    await kubectl(['-n', NS, 'patch', 'mcpserver', 'py', '--type=merge', '-p', '{"spec":{"replicas":1}}']);
    await eventually('shout back', async () => (await client.listTools()).tools.some((t) => t.name === 'shout'), 180_000, 1000);
    const back = Date.now() - started;
    expect(textOf(await client.callTool({ name: 'shout', arguments: { text: 'back' } }))).toBe('BACK');
    console.log(`[gateway] backend scaled to 0: its tools withdrawn after ${gone} ms; scaled back to 1: back after ${back - gone} ms more; the same client session throughout`);
  });
});
