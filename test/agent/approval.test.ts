// Human approval on the data path: a real agent in front of the real server-memory, whose
// delete_entities is annotated destructive. The TypeScript and Python SDK clients answer the
// agent's elicitation; a 2026-07-28 client answers an input-required result; a client without
// elicitation is told why it cannot call the tool.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { startTestAgent, textOf } from './harness.js';
import { modernPost, modernRequest } from './modern-harness.js';

const PYTHON = '.venv/bin/python';
const MEMORY = ['node', 'node_modules/@modelcontextprotocol/server-memory/dist/index.js'];
const run = promisify(execFile);

describe('approval before destructive tools', () => {
  let agent: RunningAgent;
  const asked: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-approval-'));
    process.env.MEMORY_FILE_PATH = join(dir, 'memory.jsonl');
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ approval: { tools: ['read_graph'], timeout: '2s' } }));
    agent = await startTestAgent(['--config', join(dir, 'agent.json'), '--', ...MEMORY]);
  });
  afterAll(() => agent?.stop(1000));

  /** A TS SDK client whose elicitation handler gives `answer` (or never answers). */
  async function client(answer?: (message: string) => ElicitResult | Promise<ElicitResult>): Promise<Client> {
    const c = new Client({ name: 'approver', version: '1' }, { capabilities: answer ? { elicitation: {} } : {} });
    if (answer) {
      c.setRequestHandler(ElicitRequestSchema, (req) => {
        asked.push(req.params.message);
        return answer(req.params.message);
      });
    }
    await c.connect(new StreamableHTTPClientTransport(new URL(agent.url)));
    await c.listTools();
    return c;
  }
  const entity = (name: string) => ({ entities: [{ name, entityType: 'test', observations: ['o'] }] });

  it('accept: the person sees the tool and its arguments, then the call runs', async () => {
    const c = await client(() => ({ action: 'accept', content: { approve: true } }));
    const before = asked.length;
    await c.callTool({ name: 'create_entities', arguments: entity('alpha') }); // not destructive: no question
    expect(asked.length).toBe(before);
    const r = await c.callTool({ name: 'delete_entities', arguments: { entityNames: ['alpha'] } });
    expect(r.isError).toBeFalsy();
    expect(asked.at(-1)).toMatch(/Allow the tool "delete_entities" to run\?.*destructive.*\nArguments: \{"entityNames":\["alpha"\]\}/s);
    await c.close();
  });

  it('decline, a "no" in the form, and a timeout end the call with a tool error that says so; nothing runs', async () => {
    const declining = await client(() => ({ action: 'decline' }));
    await declining.callTool({ name: 'create_entities', arguments: entity('beta') });
    const d = await declining.callTool({ name: 'delete_entities', arguments: { entityNames: ['beta'] } });
    expect(d.isError).toBe(true);
    expect(textOf(d)).toMatch(/was not run: it needs approval and the person declined/);
    const no = await client(() => ({ action: 'accept', content: { approve: false } }));
    expect(textOf(await no.callTool({ name: 'delete_entities', arguments: { entityNames: ['beta'] } }))).toMatch(/declined/);
    const silent = await client(() => new Promise<ElicitResult>(() => {}));
    const t0 = Date.now();
    expect(textOf(await silent.callTool({ name: 'delete_entities', arguments: { entityNames: ['beta'] } }))).toMatch(/no answer came within 2 s/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    const graph = JSON.parse(textOf(await (await client(() => ({ action: 'accept', content: { approve: true } }))).callTool({ name: 'read_graph', arguments: {} })));
    expect(graph.entities.map((e: { name: string }) => e.name)).toContain('beta');
    await Promise.all([declining.close(), no.close(), silent.close()]);
  });

  it('a tool the rule names is asked about too; a client without elicitation is told why it cannot call', async () => {
    const plain = await client();
    const r = await plain.callTool({ name: 'read_graph', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/needs a person's approval \(the server's approval rule names it\).*did not declare the elicitation capability/);
    await plain.close();
  });

  it('a 2026-07-28 client approves through an input-required round trip', async () => {
    await (await modernPost(agent.url, modernRequest(1, 'tools/list', {}, { elicitation: {} }))).json();
    const call = (id: number, extra: Record<string, unknown> = {}) =>
      modernPost(agent.url, modernRequest(id, 'tools/call', { name: 'delete_entities', arguments: { entityNames: ['gamma'] }, ...extra }, { elicitation: {} })).then((r) => r.json());
    const first = await call(2);
    expect(first.result.resultType).toBe('input_required');
    const [key, input] = Object.entries(first.result.inputRequests as Record<string, { method: string; params: { message: string } }>)[0]!;
    expect(input.method).toBe('elicitation/create');
    expect(input.params.message).toMatch(/delete_entities/);
    const done = await call(3, { requestState: first.result.requestState, inputResponses: { [key]: { action: 'accept', content: { approve: true } } } });
    expect(done.result.resultType).toBe('complete');
    expect(done.result.isError).toBeFalsy();
  });

  it.runIf(existsSync(PYTHON))('the Python SDK client answers the question, yes and no', async () => {
    const py = async (answer: string) => {
      const { stdout } = await run(PYTHON, ['test/fixtures/py_approval_client.py', agent.url, answer, 'delete_entities', JSON.stringify({ entityNames: ['py'] })], { timeout: 30_000 });
      return JSON.parse(stdout.trim().split('\n').pop()!) as { asked: string[]; isError: boolean; text: string };
    };
    const yes = await py('yes');
    expect(yes.asked[0]).toMatch(/delete_entities/);
    expect(yes.isError).toBe(false);
    const no = await py('no');
    expect(no).toMatchObject({ isError: true });
    expect(no.text).toMatch(/declined/);
  });
});
