import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { connectClient, PROBE, startTestAgent, textOf } from './harness.js';

const run = promisify(execFile);
const PYTHON = '.venv/bin/python';
const hasPython = existsSync(PYTHON);

async function pyClient(kind: string, url: string, tool: string, args: object) {
  const { stdout } = await run(PYTHON, ['test/fixtures/py_client.py', kind, url, tool, JSON.stringify(args)], { timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe.runIf(hasPython)('Python SDK client through the agent', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('streamable HTTP: tools and a sampling round trip', async () => {
    const out = await pyClient('streamable-http', agent.url, 'echo', { text: 'py' });
    expect(out).toMatchObject({ server: 'probe', text: 'py', sampled: 'from-python' });
  });

  it('legacy SSE: tools and a sampling round trip', async () => {
    const out = await pyClient('sse', agent.url.replace(/\/mcp$/, '/sse'), 'echo', { text: 'py-sse' });
    expect(out).toMatchObject({ server: 'probe', text: 'py-sse', sampled: 'from-python' });
  });
});

describe.runIf(hasPython)('a Python stdio server behind the agent', () => {
  it('serves the TypeScript client', async () => {
    const agent = await startTestAgent(['--', PYTHON, 'test/fixtures/py_server.py']);
    const client = await connectClient(agent);
    expect(textOf(await client.callTool({ name: 'shout', arguments: { text: 'hey' } }))).toBe('HEY');
    await client.close();
    await agent.stop(1000);
  });
});

describe('HTTP upstreams', () => {
  let inner: RunningAgent;
  beforeAll(async () => {
    inner = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => inner.stop(1000));

  it('fronts a streamable HTTP server', async () => {
    const outer = await startTestAgent(['--upstream', inner.url]);
    const client = await connectClient(outer, 'websocket');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via http' } }))).toBe('via http');
    const progress: number[] = [];
    await client.callTool({ name: 'progress', arguments: { steps: 2 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    // The last event can race the result inside the v1 SDK client (see interop.test.ts).
    expect(progress[0]).toBe(1);
    await client.close();
    await outer.stop(1000);
  });

  it('falls back to legacy SSE when streamable HTTP is refused', async () => {
    const outer = await startTestAgent(['--upstream', inner.url.replace(/\/mcp$/, '/sse')]);
    const client = await connectClient(outer);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via sse' } }))).toBe('via sse');
    const ready = await (await fetch(outer.url.replace('/mcp', '/readyz'))).json();
    expect(ready.upstream).toMatch(/probe/);
    await client.close();
    await outer.stop(1000);
  });
});

describe('--tty: a server on a pseudo-terminal', () => {
  it('passes JSON-RPC through a raw, echo-free terminal', async () => {
    const agent = await startTestAgent(['--tty', '--', ...PROBE]);
    const client = await connectClient(agent);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'on a tty' } }))).toBe('on a tty');
    await client.close();
    await agent.stop(1000);
  });
});
