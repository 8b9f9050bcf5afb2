import { afterEach, describe, expect, it } from 'vitest';
import type { AgentBackend, AggregateSettings } from '../../api/agent-backends.js';
import { ScriptedServer, silentLogger } from '../mux/testing.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { RELATED_REQUEST } from '../upstream/transport.js';
import { AggregateTransport } from './transport.js';

const LISTS: Record<string, string> = { 'tools/list': 'tools', 'prompts/list': 'prompts', 'resources/list': 'resources', 'resources/templates/list': 'resourceTemplates' };

/** A scripted backend that answers the list methods itself (from `lists`, which a test may change). */
class ListingServer extends ScriptedServer {
  closed = false;
  lists: Record<string, unknown> = {};
  constructor(
    tools: unknown,
    capabilities: Record<string, unknown> = { tools: { listChanged: true } },
    name = 'scripted',
  ) {
    super({ protocolVersion: '2025-11-25', capabilities, serverInfo: { name, version: '1' }, instructions: `use ${name}` });
    this.lists.tools = tools;
  }
  set tools(tools: unknown) {
    this.lists.tools = tools;
  }
  override send(frame: string): void {
    const m = JSON.parse(frame) as Record<string, any>;
    const kind = LISTS[m.method];
    if (kind !== undefined) {
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: m.id, result: { [kind]: this.lists[kind] ?? [] } } as never));
      return;
    }
    super.send(frame);
  }
  override close = async () => {
    this.closed = true;
  };
  /** The server process ends. */
  die(): void {
    this.onclose?.('server exited (code 1)');
  }
}

const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });
const opened: AggregateTransport[] = [];
afterEach(async () => {
  for (const a of opened.splice(0)) await a.close();
});

async function aggregate(servers: Record<string, ListingServer>, settings: Partial<AggregateSettings> = {}, specs: Partial<AgentBackend>[] = []) {
  const out: Array<Record<string, any>> = [];
  const a = new AggregateTransport({
    backends: Object.keys(servers).map((name, i) => ({ name, command: ['x'], ...specs[i] })),
    settings: { collision: 'prefix', separator: '_', failMode: 'open', ...settings },
    connect: (spec) => servers[spec.name]!,
    logger: silentLogger,
    clientInfo: { name: 'agent', version: '1' },
    capabilities: { sampling: {} },
    serverInfo: { name: 'ome-mcp-aggregate', version: '0' },
    requestTimeoutMs: 5000,
    initializeTimeoutMs: 1000,
    restartMinDelayMs: 10,
    restartMaxDelayMs: 10,
    listTimeoutMs: 500,
  });
  opened.push(a);
  a.onmessage = (m: JsonRpcMessage) => void out.push(m as never);
  await a.start();
  const ask = async (id: number, method: string, params: Record<string, unknown> = {}) => {
    a.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    await waitUntil(() => out.some((m) => m.id === id && m.method === undefined));
    return out.find((m) => m.id === id && m.method === undefined)!;
  };
  return { a, out, ask };
}

async function waitUntil(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('AggregateTransport', () => {
  it('answers initialize itself: its own serverInfo, merged capabilities and instructions', async () => {
    const { ask } = await aggregate({ a: new ListingServer([], { tools: {}, logging: {} }, 'A'), b: new ListingServer([], { resources: { subscribe: true } }, 'B') });
    const r = await ask(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } });
    expect(r.result).toEqual({
      protocolVersion: '2025-11-25',
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true, subscribe: true }, logging: {} },
      serverInfo: { name: 'ome-mcp-aggregate', version: '0' },
      instructions: '## a\nuse A\n\n## b\nuse B',
    });
  });

  it('routes a call to its backend under the original name and the backend’s own id; the answer comes back under ours', async () => {
    const a = new ListingServer([tool('echo')]);
    const b = new ListingServer([tool('echo')]);
    const { out, a: agg } = await aggregate({ a, b });
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'b_echo', arguments: {}, _meta: { progressToken: 41 } } }));
    await waitUntil(() => b.sent('tools/call').length === 1);
    expect(a.sent('tools/call')).toHaveLength(0);
    const sent = b.sent('tools/call')[0]!;
    expect(sent.params.name).toBe('echo');
    b.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: sent.params._meta.progressToken, progress: 1 } });
    b.say({ jsonrpc: '2.0', id: sent.id, result: { content: [] } });
    await waitUntil(() => out.some((m) => m.id === 41));
    expect(out.find((m) => m.method === 'notifications/progress')!.params.progressToken).toBe(41);
    expect(out.find((m) => m.id === 41)).toEqual({ jsonrpc: '2.0', id: 41, result: { content: [] } });
  });

  it('sends a cancellation to the backend working on the call, with that backend’s id', async () => {
    const a = new ListingServer([tool('slow')]);
    const { a: agg } = await aggregate({ a, b: new ListingServer([]) });
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'a_slow' } }));
    await waitUntil(() => a.sent('tools/call').length === 1);
    agg.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }));
    await waitUntil(() => a.sent('notifications/cancelled').length === 1);
    expect(a.sent('notifications/cancelled')[0]!.params.requestId).toBe(a.sent('tools/call')[0]!.id);
  });

  it('forwards a backend’s server→client request under a fresh id tagged with the call, and returns the answer under the backend’s id', async () => {
    const a = new ListingServer([tool('ask')]);
    const { out, a: agg } = await aggregate({ a });
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'a_ask' } }));
    await waitUntil(() => a.sent('tools/call').length === 1);
    a.say({ jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: { messages: [] } });
    await waitUntil(() => out.some((m) => m.method === 'sampling/createMessage'));
    const up = out.find((m) => m.method === 'sampling/createMessage')!;
    expect(up.id).not.toBe(0);
    expect((up as Record<symbol, unknown>)[RELATED_REQUEST]).toBe(3);
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: up.id, result: { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' } }));
    await waitUntil(() => a.received.some((m) => m.id === 0 && m.result));
  });

  it('refreshes a backend on its list_changed and says list_changed once upward', async () => {
    const a = new ListingServer([tool('one')]);
    const { out, ask } = await aggregate({ a });
    await ask(1, 'initialize', {});
    a.tools = [tool('one'), tool('two')];
    a.say({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await waitUntil(() => out.some((m) => m.method === 'notifications/tools/list_changed'));
    expect(out.filter((m) => m.method === 'notifications/tools/list_changed')).toHaveLength(1);
    expect((await ask(2, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['a_one', 'a_two']);
  });

  it('a backend silent on a list it declares delays the merged list by the list timeout only', async () => {
    const a = new ListingServer([tool('t')], { tools: {}, prompts: {} });
    a.send = ((orig) => (frame: string) => (JSON.parse(frame).method === 'prompts/list' ? undefined : orig(frame)))(a.send.bind(a));
    const { ask } = await aggregate({ a });
    const started = Date.now();
    expect((await ask(1, 'prompts/list')).result.prompts).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(a.sent('notifications/cancelled').length).toBeGreaterThan(0);
  });

  it('a backend answering garbage keeps its last list; malformed entries are skipped; nothing hangs', async () => {
    const a = new ListingServer([tool('good'), { nope: 1 }]);
    const { ask } = await aggregate({ a, b: new ListingServer([tool('b1')]) });
    expect((await ask(1, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['a_good', 'b_b1']);
    a.tools = 'not a list';
    expect((await ask(2, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['a_good', 'b_b1']);
  });

  it('a backend that dies: its in-flight call fails with -32001, its tools go (list_changed), calls to them answer clearly', async () => {
    const a = new ListingServer([tool('echo')]);
    const { out, ask, a: agg } = await aggregate({ a, b: new ListingServer([tool('echo')]) });
    await ask(1, 'initialize', {});
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'a_echo' } }));
    await waitUntil(() => a.sent('tools/call').length === 1);
    a.die();
    await waitUntil(() => out.some((m) => m.id === 2));
    expect(out.find((m) => m.id === 2)!.error.code).toBe(-32001);
    expect(out.some((m) => m.method === 'notifications/tools/list_changed')).toBe(true);
    expect((await ask(3, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['b_echo']);
    const err = (await ask(4, 'tools/call', { name: 'a_echo' })).error;
    expect(err.code).toBe(-32001);
    expect(err.message).toMatch(/tool "a_echo" is served by backend a, which is down/);
    expect((await ask(5, 'tools/call', { name: 'zzz' })).error).toMatchObject({ code: -32602, message: 'unknown tool "zzz"' });
  });

  it('fail-closed: a down backend’s tools stay listed and the aggregate is not ready', async () => {
    const a = new ListingServer([tool('echo')]);
    const { ask, a: agg } = await aggregate({ a, b: new ListingServer([]) }, { failMode: 'closed' });
    expect(agg.ready).toBe(true);
    a.die();
    expect(agg.ready).toBe(false);
    expect((await ask(1, 'tools/list')).result.tools.map((t: { name: string }) => t.name)).toEqual(['a_echo']);
    expect(agg.status()[0]).toMatchObject({ name: 'a', up: false, tools: 1 });
  });

  it('routes resources by URI and completions by prompt, and refuses what it does not route', async () => {
    const a = new ListingServer([], { resources: {}, prompts: {} });
    a.lists.resources = [{ uri: 'mem://x', name: 'x' }];
    a.lists.prompts = [{ name: 'p' }];
    // Two backends with resources: a URI neither lists has no owner (with one, it would be that one).
    const { ask, a: agg } = await aggregate({ a, b: new ListingServer([], { resources: {} }) });
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'mem://x' } }));
    agg.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'a_p' }, argument: { name: 'n', value: '' } } }));
    await waitUntil(() => a.sent('resources/read').length === 1 && a.sent('completion/complete').length === 1);
    expect(a.sent('completion/complete')[0]!.params.ref.name).toBe('p');
    expect((await ask(5, 'resources/read', { uri: 'nowhere://y' })).error.message).toBe('unknown resource nowhere://y');
    expect((await ask(6, 'tasks/list')).error.code).toBe(-32601);
  });
});
