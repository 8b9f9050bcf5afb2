// Several real MCP servers behind one agent (`backends`, docs/aggregate.md): the merged catalog,
// routing to each backend, collisions each way, a backend that dies and comes back, both protocol
// revisions, and server→client requests routed back to the calling client through the aggregate.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { freePort } from '../free-port.js';
import { connectClient, EVERYTHING, PROBE, startTestAgent, textOf, waitFor } from './harness.js';
import { MODERN, modernPost, modernRequest, v2Client } from './modern-harness.js';

const PYTHON = '.venv/bin/python';
const hasPython = existsSync(PYTHON);
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ome-aggregate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let configs = 0;
async function aggregateAgent(config: Record<string, unknown>, waitReady = true): Promise<RunningAgent> {
  const file = join(dir, `agent-${++configs}.json`);
  writeFileSync(file, JSON.stringify(config));
  return startTestAgent(['--config', file], undefined, {}, waitReady);
}

const readyz = async (agent: RunningAgent) => {
  const res = await fetch(agent.url.replace('/mcp', '/readyz'));
  return { status: res.status, body: (await res.json()) as { backends: Array<{ name: string; up: boolean; detail: string; tools: number }> } };
};
const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);
const serverOf = (result: unknown) => ((result as { _meta?: Record<string, { name?: string }> })._meta?.['io.modelcontextprotocol/serverInfo']?.name ?? 'probe');

/**
 * A probe server that refuses to start while `block` exists: a backend that goes down and stays
 * down until the test lets it back.
 */
function blockableProbe(block: string): string[] {
  return ['sh', '-c', `if [ -e "${block}" ]; then exit 7; fi; exec node "${resolve('test/fixtures/probe-server.mjs')}"`];
}

describe('an aggregate of real servers (prefix, the default)', () => {
  let agent: RunningAgent;
  const block = join(dir, 'block-probe');
  beforeAll(async () => {
    agent = await aggregateAgent({
      backends: [
        { name: 'everything', command: EVERYTHING },
        { name: 'memory', command: ['node_modules/.bin/mcp-server-memory'], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
        { name: 'fs', command: ['node_modules/.bin/mcp-server-filesystem', dir] },
        { name: 'probe', command: blockableProbe(block), rename: { ask: 'ask' }, descriptions: { echo: 'Echoes text (through the aggregate)' } },
        { name: 'modern', command: MODERN, toolsFilter: ['echo', 'ask', 'confirm'] },
        ...(hasPython ? [{ name: 'py', command: [PYTHON, 'test/fixtures/py_server.py'] }] : []),
      ],
    });
    // Six servers starting at once on a busy machine: one may need a second attempt (a slow
    // Python start outlasts the 2026-07-28 probe). These tests are about the running aggregate.
    await waitFor(async () => (await readyz(agent)).body.backends.every((b) => b.up), 30_000, 200);
  });
  afterAll(() => agent?.stop(1000));

  it('lists every backend’s tools under <backend>_<name>, with the per-backend filter, rename and description', async () => {
    const client = await connectClient(agent);
    expect(client.getServerVersion()?.name).toBe('ome-mcp-aggregate');
    const tools = (await client.listTools()).tools;
    const list = tools.map((t) => t.name);
    expect(list).toEqual(expect.arrayContaining(['everything_echo', 'memory_read_graph', 'fs_list_allowed_directories', 'probe_echo', 'ask', 'modern_echo']));
    expect(list).not.toContain('probe_ask'); // renamed
    expect(list.filter((n) => n.startsWith('modern_')).sort()).toEqual(['modern_ask', 'modern_confirm', 'modern_echo']);
    expect(tools.find((t) => t.name === 'probe_echo')?.description).toBe('Echoes text (through the aggregate)');
    expect(new Set(list).size).toBe(list.length);
    if (hasPython) expect(list).toContain('py_shout');
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain('everything_simple-prompt');
    const prompt = await client.getPrompt({ name: 'everything_simple-prompt' });
    expect((prompt.messages[0]!.content as { text: string }).text).toMatch(/simple prompt/i);
    await client.close();
  });

  it('calls a tool of each backend with its own name', async () => {
    const client = await connectClient(agent);
    expect(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'e' } }))).toContain('e');
    await client.callTool({ name: 'memory_create_entities', arguments: { entities: [{ name: 'ome', entityType: 'project', observations: ['aggregated'] }] } });
    expect(textOf(await client.callTool({ name: 'memory_read_graph', arguments: {} }))).toContain('aggregated');
    expect(textOf(await client.callTool({ name: 'fs_list_allowed_directories', arguments: {} }))).toContain(dir);
    expect(textOf(await client.callTool({ name: 'probe_echo', arguments: { text: 'p' } }))).toBe('p');
    expect(textOf(await client.callTool({ name: 'modern_echo', arguments: { text: 'm' } }))).toBe('m');
    if (hasPython) expect(textOf(await client.callTool({ name: 'py_shout', arguments: { text: 'py' } }))).toBe('PY');
    const unknown = await client.callTool({ name: 'nobody_echo', arguments: {} }).catch((e: Error) => e);
    expect(String(unknown)).toMatch(/unknown tool "nobody_echo"/);
    await client.close();
  });

  it('reads a resource of the backend that listed it, and routes progress back', async () => {
    const client = await connectClient(agent);
    const resources = (await client.listResources()).resources;
    const one = resources.find((r) => r.uri.startsWith('demo://'))!;
    expect((await client.readResource({ uri: one.uri })).contents[0]!.uri).toBe(one.uri);
    const progress: number[] = [];
    expect(textOf(await client.callTool({ name: 'probe_progress', arguments: { steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) }))).toBe('done 3');
    expect(progress[0]).toBe(1);
    await client.close();
  });

  it('subscribes to a resource at the backend that lists it; its updates and log lines (named by backend) come back', async () => {
    const client = await connectClient(agent);
    const updates: string[] = [];
    const logs: Array<{ logger?: string; data: unknown }> = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => void updates.push(n.params.uri));
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void logs.push(n.params));
    await client.setLoggingLevel('info');
    await client.subscribeResource({ uri: 'probe://note' });
    expect(JSON.parse(textOf(await client.callTool({ name: 'probe_subscriptions', arguments: {} })))).toContain('+probe://note');
    await client.callTool({ name: 'probe_touch', arguments: { uri: 'probe://note' } });
    await waitFor(() => updates.includes('probe://note') && logs.some((l) => l.logger === 'probe'), 5000);
    await client.unsubscribeResource({ uri: 'probe://note' });
    await client.close();
  });

  it('routes sampling and elicitation from a backend to the client whose call asked, in both bridged directions', async () => {
    const clients = await Promise.all(['a', 'b'].map(async (who) => {
      const client = await connectClient(agent, 'streamable-http', { sampling: {}, elicitation: {} });
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: `from-${who}` } }));
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: who === 'a' } }));
      return { who, client };
    }));
    // Both clients at once, step by step: at each step the backend has one call of each client in
    // flight, and each request it sends reaches the client whose call caused it. (Different asking
    // tools in flight together on one 2025-era backend are the heuristic's known limit, as for one
    // server: docs/modern-protocol.md "Not supported".)
    const steps: Array<[string, Record<string, unknown>, (who: string) => string]> = [
      ['everything_trigger-sampling-request', { prompt: 'hi', maxTokens: 5 }, (who) => `from-${who}`], // server-everything (2025 session)
      ['ask', { prompt: 'x' }, (who) => `from-${who}`], // the probe, renamed
      ['probe_confirm', { question: 'sure?' }, (who) => `ok=${who === 'a'}`],
      ['modern_ask', { prompt: 'q' }, (who) => `from-${who}`], // 2026-07-28: input-required, bridged to a request for this call
    ];
    for (const [name, args, expected] of steps) {
      const texts = await Promise.all(clients.map(async ({ client }) => textOf(await client.callTool({ name, arguments: args }))));
      clients.forEach(({ who }, i) => expect(texts[i], name).toContain(expected(who)));
    }
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('serves 2026-07-28 clients: the v2 SDK client and a raw modern request', async () => {
    const client = await v2Client(agent, { sampling: {} }, 'pin');
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'v2-sampled' }, model: 'm' }));
    // Sampling as input-required, from a 2025-era backend (probe) and from a 2026-07-28 one (modern).
    expect(textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'q' } }))).toBe('v2-sampled');
    expect(textOf(await client.callTool({ name: 'modern_ask', arguments: { prompt: 'q' } }))).toBe('v2-sampled');
    const list = (await client.listTools()).tools.map((t) => t.name);
    expect(list).toContain('modern_echo');
    expect(textOf(await client.callTool({ name: 'probe_echo', arguments: { text: 'v2' } }))).toBe('v2');
    expect(textOf(await client.callTool({ name: 'modern_echo', arguments: { text: 'v2m' } }))).toBe('v2m');
    await client.close();
    const res = await modernPost(agent.url, modernRequest(1, 'tools/call', { name: 'everything_echo', arguments: { message: 'raw' } }));
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('raw');
  });

  it.runIf(hasPython)('serves the Python SDK client (tools and a sampling round trip)', async () => {
    const { stdout } = await run(PYTHON, ['test/fixtures/py_client.py', 'streamable-http', agent.url, 'probe_echo', JSON.stringify({ text: 'py' })], { timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ server: 'ome-mcp-aggregate', text: 'py', sampled: 'from-python' });
  });

  it('a backend that dies loses its tools (list_changed), the others keep working, and it comes back', async () => {
    const client = await connectClient(agent);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changes++);
    await client.listTools();
    writeFileSync(block, '');
    await client.callTool({ name: 'probe_exit', arguments: {} });
    await waitFor(async () => !(await names(client)).includes('probe_echo'), 10_000);
    await waitFor(() => changes > 0, 5000);
    expect(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'still here' } }))).toContain('still here');
    const down = await client.callTool({ name: 'probe_echo', arguments: { text: 'x' } }).catch((e: Error) => e);
    expect(String(down)).toMatch(/served by backend probe, which is down/);
    const { status, body } = await readyz(agent);
    expect(status).toBe(200); // fail-open: the rest is served
    expect(body.backends.find((b) => b.name === 'probe')).toMatchObject({ up: false, detail: expect.stringMatching(/restarting/) });
    const before = changes;
    rmSync(block);
    await waitFor(async () => (await names(client)).includes('probe_echo'), 20_000, 200);
    await waitFor(() => changes > before, 5000);
    expect(textOf(await client.callTool({ name: 'probe_echo', arguments: { text: 'back' } }))).toBe('back');
    await client.close();
  });
});

describe('collisions', () => {
  it('priority: names as the servers give them, the higher priority wins a clash; rename resolves one', async () => {
    const agent = await aggregateAgent({
      aggregate: { collision: 'priority' },
      backends: [
        { name: 'probe', command: PROBE, rename: { sleep: 'probe-sleep' } },
        { name: 'modern', command: MODERN, priority: 10 },
      ],
    });
    const client = await connectClient(agent);
    const list = await names(client);
    expect(list.filter((n) => n === 'echo')).toHaveLength(1);
    expect(list).toEqual(expect.arrayContaining(['echo', 'exit', 'region', 'sleep', 'probe-sleep']));
    expect(serverOf(await client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('modern-probe');
    expect(serverOf(await client.callTool({ name: 'sleep', arguments: { ms: 1 } }))).toBe('modern-probe');
    expect(serverOf(await client.callTool({ name: 'probe-sleep', arguments: { ms: 1 } }))).toBe('probe');
    await client.close();
    await agent.stop(1000);
  });

  it('priority, equal: the backend listed first wins', async () => {
    const agent = await aggregateAgent({ aggregate: { collision: 'priority' }, backends: [{ name: 'probe', command: PROBE }, { name: 'modern', command: MODERN }] });
    const client = await connectClient(agent);
    expect(serverOf(await client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('probe');
    await client.close();
    await agent.stop(1000);
  });

  it('prefix with a custom separator: both offered; a rename onto a taken name is hidden and reported', async () => {
    const agent = await aggregateAgent({
      aggregate: { separator: '.' },
      backends: [
        { name: 'probe', command: PROBE },
        { name: 'modern', command: MODERN, rename: { echo: 'probe.echo' } },
      ],
    });
    const client = await connectClient(agent);
    const list = await names(client);
    expect(list).toEqual(expect.arrayContaining(['probe.echo', 'modern.sleep']));
    expect(list.filter((n) => n === 'probe.echo')).toHaveLength(1);
    expect(serverOf(await client.callTool({ name: 'probe.echo', arguments: { text: 'x' } }))).toBe('probe');
    await client.close();
    await agent.stop(1000);
  });
});

describe('policy per backend', () => {
  it('Cedar sees the backend of a tool (resource.backend): one backend permitted, the other denied, whatever the names', async () => {
    const agent = await aggregateAgent({
      aggregate: { collision: 'priority' },
      backends: [
        { name: 'probe', command: PROBE },
        { name: 'modern', command: MODERN, rename: { echo: 'modern-echo' } },
      ],
      authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action == Action::"call_tool", resource) when { resource has backend && resource.backend == "probe" };'] } },
    });
    const client = await connectClient(agent);
    const tools = (await client.listTools()).tools;
    // Listing is filtered by the same policy: only the permitted backend's tools are offered.
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(tools.map((t) => t.name)).not.toContain('modern-echo');
    expect(tools.find((t) => t.name === 'echo')?._meta).toMatchObject({ 'ome.io/backend': 'probe' });
    expect(serverOf(await client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('probe');
    const denied = await client.callTool({ name: 'modern-echo', arguments: { text: 'x' } }).then(
      (r) => JSON.stringify(r),
      (e: Error) => e.message,
    );
    expect(denied).toMatch(/denied|not allowed|unknown tool|forbidden/i);
    await client.close();
    await agent.stop(1000);
  });
});

describe('backends that fail', () => {
  it('fail-open: a backend that cannot start is reported down; the others are served', async () => {
    const agent = await aggregateAgent({
      backends: [
        { name: 'broken', command: ['node', '-e', 'process.exit(3)'] },
        { name: 'missing', command: ['/nonexistent/mcp-server'] },
        { name: 'garbage', command: PROBE, env: { PROBE_GARBAGE: '1' } },
        { name: 'unreachable', url: 'http://127.0.0.1:1/mcp' },
      ],
    });
    const { status, body } = await readyz(agent);
    expect(status).toBe(200);
    expect(body.backends.map((b) => [b.name, b.up])).toEqual([['broken', false], ['missing', false], ['garbage', true], ['unreachable', false]]);
    expect(body.backends[1]!.detail).toMatch(/cannot start/);
    expect(body.backends[3]!.detail).toMatch(/could not be reached/);
    const client = await connectClient(agent);
    expect(textOf(await client.callTool({ name: 'garbage_echo', arguments: { text: 'ok' } }))).toBe('ok');
    await client.close();
    await agent.stop(1000);
  });

  it('fail-closed: not ready while a backend is down; its tools stay listed and answer a clear error', async () => {
    const block = join(dir, 'block-closed');
    const agent = await aggregateAgent({ aggregate: { failMode: 'closed' }, backends: [{ name: 'probe', command: blockableProbe(block) }, { name: 'modern', command: MODERN }] });
    expect((await readyz(agent)).status).toBe(200);
    const client = await connectClient(agent);
    writeFileSync(block, '');
    await client.callTool({ name: 'probe_exit', arguments: {} });
    await waitFor(async () => (await readyz(agent)).status === 503, 5000);
    expect(await names(client)).toContain('probe_echo');
    const err = await client.callTool({ name: 'probe_echo', arguments: { text: 'x' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/probe_echo" is served by backend probe, which is down \(restarting: server exited/);
    expect(textOf(await client.callTool({ name: 'modern_echo', arguments: { text: 'y' } }))).toBe('y');
    rmSync(block);
    await waitFor(async () => (await readyz(agent)).status === 200, 20_000, 200);
    await client.close();
    await agent.stop(1000);
  });
});

describe('agent options', () => {
  it('backends exclude any other upstream', async () => {
    const file = join(dir, 'both.json');
    writeFileSync(file, JSON.stringify({ backends: [{ name: 'a', command: PROBE }] }));
    await expect(startTestAgent(['--config', file, '--', ...PROBE])).rejects.toThrow(/exactly one of/);
    writeFileSync(file, JSON.stringify({ backends: [{ name: 'a', command: PROBE }, { name: 'a', url: 'http://127.0.0.1:1/mcp' }] }));
    await expect(startTestAgent(['--config', file])).rejects.toThrow(/backends\[1\]\.name: duplicates backend a/);
    writeFileSync(file, JSON.stringify({ backends: [{ name: 'A_b', command: PROBE, url: 'http://127.0.0.1:1/mcp' }] }));
    await expect(startTestAgent(['--config', file])).rejects.toThrow(/give exactly one of command and url[\s\S]*|must match pattern/);
  });
});

describe('an HTTP backend beside a stdio one', () => {
  let inner: RunningAgent;
  beforeAll(async () => {
    inner = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => inner?.stop(1000));

  it('routes to each', async () => {
    const agent = await aggregateAgent({ backends: [{ name: 'remote', url: inner.url }, { name: 'local', command: MODERN }] });
    const client = await connectClient(agent, 'websocket');
    expect(textOf(await client.callTool({ name: 'remote_echo', arguments: { text: 'over http' } }))).toBe('over http');
    expect(textOf(await client.callTool({ name: 'local_echo', arguments: { text: 'over stdio' } }))).toBe('over stdio');
    await client.close();
    await agent.stop(1000);
  });

  it('an HTTP backend that goes away loses its tools; back on its port (a new server: the session forgotten), it is re-initialized', async () => {
    const port = await freePort();
    let remote = await startTestAgent(['--port', String(port), '--', ...PROBE]);
    const agent = await aggregateAgent({ backends: [{ name: 'remote', url: remote.url }, { name: 'local', command: PROBE }] });
    const client = await connectClient(agent);
    expect(await names(client)).toContain('remote_echo');
    await remote.stop(500);
    // The next list finds no server: the backend is down, its tools withdrawn, the other one served.
    await waitFor(async () => !(await names(client)).includes('remote_echo'), 10_000, 200);
    expect((await readyz(agent)).body.backends.find((b) => b.name === 'remote')).toMatchObject({ up: false });
    expect(textOf(await client.callTool({ name: 'local_echo', arguments: { text: 'meanwhile' } }))).toBe('meanwhile');
    remote = await startTestAgent(['--port', String(port), '--', ...PROBE]);
    await waitFor(async () => (await names(client)).includes('remote_echo'), 40_000, 250);
    expect(textOf(await client.callTool({ name: 'remote_echo', arguments: { text: 'back' } }))).toBe('back');

    // A server that restarts between two calls forgets the session: 404, then a new one.
    await remote.stop(500);
    remote = await startTestAgent(['--port', String(port), '--', ...PROBE]);
    await waitFor(async () => textOf(await client.callTool({ name: 'remote_echo', arguments: { text: 'again' } })) === 'again', 40_000, 250);
    await client.close();
    await agent.stop(1000);
    await remote.stop(500);
  });
});
