// The catalog on the agent's data path, with real parts: server-everything behind the agent, a
// real HTTP endpoint on loopback as the declared tools' target, the TypeScript SDK as the client.
// Declared tools sit beside the server's, pass the same policy, map HTTP answers to MCP results;
// prompts render; resources read and notify subscribers; a reload tells clients list_changed.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { parseOptions } from '../../agent/config/options.js';
import { ConfigMapDir, connectClient, EVERYTHING, textOf, waitFor } from './harness.js';

const SECRET = 'k-3b1f-very-secret';

/** The declared tools' endpoint: a few routes, and counters the tests read. */
function startEndpoint(): Promise<{ server: Server; base: string; hits: Record<string, number> }> {
  const hits: Record<string, number> = {};
  const body = (req: IncomingMessage) => new Promise<string>((r) => {
    let s = '';
    req.on('data', (c) => (s += c)).on('end', () => r(s));
  });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const route = url.pathname.split('/')[1]!;
    hits[route] = (hits[route] ?? 0) + 1;
    const json = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    switch (route) {
      case 'search':
        return json(200, { query: decodeURIComponent(url.pathname.split('/')[2] ?? ''), limit: url.searchParams.get('limit'), hits: hits.search });
      case 'orders':
        return json(201, { received: JSON.parse((await body(req)) || 'null'), method: req.method });
      case 'key':
        return json(200, { keyOk: req.headers['x-api-key'] === SECRET });
      case 'fail':
        return res.writeHead(500, { 'content-type': 'text/plain' }).end('database is down');
      case 'flaky':
        return hits.flaky! < 3 ? res.writeHead(503).end() : json(200, { after: hits.flaky });
      case 'slow':
        return setTimeout(() => json(200, {}), 2000);
      case 'doc':
        return res.writeHead(200, { 'content-type': 'text/markdown' }).end(`# doc ${url.pathname.split('/')[2]}`);
      default:
        return res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits })));
}

function catalogOf(base: string, dir: string) {
  return {
    tools: [
      {
        name: 'search_docs',
        description: 'Search the docs',
        inputSchema: { type: 'object', properties: { query: { type: 'string', minLength: 1 }, limit: { type: 'integer' } }, required: ['query'] },
        annotations: { readOnlyHint: true, idempotentHint: true },
        http: { url: `${base}/search/{query}`, method: 'GET' },
        cacheTtl: '1m',
      },
      {
        name: 'create_order',
        inputSchema: { type: 'object', properties: { item: { type: 'string' }, qty: { type: 'integer' } } },
        http: { url: `${base}/orders`, method: 'POST', bodyTemplate: '{"sku": {{item}}, "n": {{qty}}}' },
      },
      { name: 'check_key', http: { url: `${base}/key`, method: 'GET', headers: [{ name: 'X-Api-Key', file: join(dir, 'api-key') }] } },
      { name: 'broken', http: { url: `${base}/fail`, method: 'GET' } },
      { name: 'typed', outputSchema: { type: 'object', properties: { query: { type: 'number' } } }, http: { url: `${base}/search/x`, method: 'GET' } },
      { name: 'flaky', annotations: { idempotentHint: true }, http: { url: `${base}/flaky`, method: 'GET', retries: 3 } },
      { name: 'slow', http: { url: `${base}/slow`, method: 'GET', timeout: '300ms' } },
    ],
    prompts: [
      {
        name: 'review',
        description: 'Review a change',
        arguments: [{ name: 'change', required: true }, { name: 'tone', default: 'kind' }],
        messages: [{ role: 'user', text: 'Review {{change}}, in a {{tone}} tone.' }],
      },
    ],
    resources: [
      { uri: 'config://app', name: 'app-config', mimeType: 'text/yaml', text: 'replicas: 2' },
      { uri: 'secret://token-doc', name: 'token-doc', file: join(dir, 'doc.txt') },
      { uriTemplate: 'docs://{page}', name: 'docs', mimeType: 'text/markdown', http: { url: `${base}/doc/{page}` } },
    ],
  };
}

/** For one describe block: the endpoint, and an agent started from `config` (a ConfigMap-like file) with `args`. */
function agentWith(config: (base: string, dir: string) => object, args: string[], logger = pino({ level: 'silent' })) {
  const ctx = {} as { endpoint: Awaited<ReturnType<typeof startEndpoint>>; dir: string; cm: ConfigMapDir; agent: RunningAgent; client: Client };
  beforeAll(async () => {
    ctx.endpoint = await startEndpoint();
    ctx.dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    writeFileSync(join(ctx.dir, 'api-key'), `${SECRET}\n`);
    writeFileSync(join(ctx.dir, 'doc.txt'), 'version 1');
    ctx.cm = new ConfigMapDir(config(ctx.endpoint.base, ctx.dir));
    ctx.agent = await startAgent(await parseOptions(['--port', '0', '--config', ctx.cm.file, ...args]), logger);
    await waitFor(async () => (await fetch(ctx.agent.url.replace('/mcp', '/readyz'))).status === 200, 15_000);
    ctx.client = await connectClient(ctx.agent);
  });
  afterAll(async () => {
    await ctx.client?.close();
    await ctx.agent?.stop(1000);
    ctx.endpoint?.server.close();
  });
  return ctx;
}

describe('the catalog beside a real server', () => {
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) });
  const ctx = agentWith((base, dir) => ({ catalog: catalogOf(base, dir), audit: { enabled: true } }), ['--', ...EVERYTHING], pino({ level: 'trace' }, sink));
  let client: Client;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let dir: string;
  beforeAll(() => {
    ({ client, endpoint, dir } = ctx);
  });

  it('lists declared tools after the server’s own, with their annotations', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('echo'); // server-everything's
    expect(names.slice(-7)).toEqual(['search_docs', 'create_order', 'check_key', 'broken', 'typed', 'flaky', 'slow']);
    expect(tools.find((t) => t.name === 'search_docs')?.annotations).toEqual({ readOnlyHint: true, idempotentHint: true });
    expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true } });
  });

  it('calls the endpoint: path and query from the arguments, JSON as structured content', async () => {
    const r = await client.callTool({ name: 'search_docs', arguments: { query: 'a b/c', limit: 3 } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ query: 'a b/c', limit: '3' });
    expect(JSON.parse(textOf(r))).toMatchObject({ query: 'a b/c' });
    // the server's own tools still work
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toContain('hi');
  });

  it('serves a read-only idempotent tool from its cache for the same arguments', async () => {
    const before = endpoint.hits.search ?? 0;
    await client.callTool({ name: 'search_docs', arguments: { query: 'cached' } });
    const again = await client.callTool({ name: 'search_docs', arguments: { query: 'cached' } });
    expect(endpoint.hits.search).toBe(before + 1);
    expect(again.structuredContent).toMatchObject({ query: 'cached' });
  });

  it('fills a body template with the arguments as JSON', async () => {
    const r = await client.callTool({ name: 'create_order', arguments: { item: 'x"y', qty: 2 } });
    expect(r.structuredContent).toEqual({ received: { sku: 'x"y', n: 2 }, method: 'POST' });
  });

  it('sends a header from its Secret file, and never logs the value', async () => {
    const r = await client.callTool({ name: 'check_key', arguments: {} });
    expect(r.structuredContent).toEqual({ keyOk: true });
    expect(logs.join('')).not.toContain(SECRET);
  });

  it('answers endpoint failures, bad arguments and timeouts as tool errors', async () => {
    const failed = await client.callTool({ name: 'broken', arguments: {} });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toContain('HTTP 500');
    expect(textOf(failed)).toContain('database is down');
    const bad = await client.callTool({ name: 'search_docs', arguments: { query: '' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/Invalid arguments for search_docs: \/query/);
    const missing = await client.callTool({ name: 'search_docs', arguments: {} });
    expect(missing.isError).toBe(true);
    const typed = await client.callTool({ name: 'typed', arguments: {} });
    expect(textOf(typed)).toMatch(/does not match the tool's outputSchema: \/query must be number/);
    const slow = await client.callTool({ name: 'slow', arguments: {} });
    expect(textOf(slow)).toContain('no answer within 300 ms');
  });

  it('retries an idempotent tool after 503s', async () => {
    const r = await client.callTool({ name: 'flaky', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ after: 3 });
  });

  it('renders prompts, with defaults and required arguments', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('review');
    const got = await client.getPrompt({ name: 'review', arguments: { change: 'PR 7' } });
    expect(got.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Review PR 7, in a kind tone.' } }]);
    await expect(client.getPrompt({ name: 'review', arguments: {} })).rejects.toThrow(/argument "change" is required/);
  });

  it('reads resources: inline, from a file, and through a URI template', async () => {
    expect((await client.readResource({ uri: 'config://app' })).contents).toEqual([{ uri: 'config://app', mimeType: 'text/yaml', text: 'replicas: 2' }]);
    expect((await client.readResource({ uri: 'secret://token-doc' })).contents[0]).toMatchObject({ text: 'version 1' });
    expect((await client.readResource({ uri: 'docs://intro' })).contents).toEqual([{ uri: 'docs://intro', mimeType: 'text/markdown', text: '# doc intro' }]);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('docs://{page}');
  });

  it('tells a subscriber when a file resource changes', async () => {
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await client.subscribeResource({ uri: 'secret://token-doc' });
    writeFileSync(join(dir, 'doc.txt'), 'version 2');
    await waitFor(() => updates.includes('secret://token-doc'), 5000);
    expect((await client.readResource({ uri: 'secret://token-doc' })).contents[0]).toMatchObject({ text: 'version 2' });
  });

  it('applies a changed catalog in place: list_changed, then the new list', async () => {
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const next = catalogOf(endpoint.base, dir);
    next.tools = [...next.tools.slice(0, 1), { name: 'echo', description: 'declared echo wins', http: { url: `${endpoint.base}/search/echo`, method: 'GET' } }] as typeof next.tools;
    ctx.cm.write({ catalog: next, audit: { enabled: true } });
    await waitFor(() => changed > 0, 5000);
    const { tools } = await client.listTools();
    expect(tools.filter((t) => t.name === 'echo')).toEqual([expect.objectContaining({ description: 'declared echo wins' })]);
    expect(tools.map((t) => t.name)).not.toContain('create_order');
    expect((await client.callTool({ name: 'echo', arguments: {} })).structuredContent).toMatchObject({ query: 'echo' });
  });
});

describe('the catalog alone (--catalog-only), under Cedar', () => {
  const ctx = agentWith(
    (base, dir) => ({
      catalog: { tools: catalogOf(base, dir).tools.slice(0, 2) },
      authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action == Action::"list_tools", resource);', 'permit(principal, action == Action::"call_tool", resource == Tool::"search_docs");'] } },
    }),
    ['--catalog-only'],
  );
  let client: Client;
  beforeAll(() => void (client = ctx.client));

  it('is a server of its own: initialize, the list Cedar permits, calls', async () => {
    expect(client.getServerVersion()?.name).toBe('ome-mcp-agent');
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['search_docs']);
    expect((await client.callTool({ name: 'search_docs', arguments: { query: 'q' } })).structuredContent).toMatchObject({ query: 'q' });
    await expect(client.callTool({ name: 'create_order', arguments: {} })).rejects.toThrow(/denied|Unknown tool|not/i);
    await client.ping();
  });
});

describe('the catalog in front of several backends', () => {
  const ctx = agentWith((base, dir) => ({ backends: [{ name: 'everything', command: EVERYTHING }], catalog: { tools: catalogOf(base, dir).tools.slice(0, 1) } }), []);
  let client: Client;
  beforeAll(() => void (client = ctx.client));

  it('lists the backends’ prefixed tools and the declared ones, and calls both', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything_echo', 'search_docs']));
    expect(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'via backend' } }))).toContain('via backend');
    expect((await client.callTool({ name: 'search_docs', arguments: { query: 'both' } })).structuredContent).toMatchObject({ query: 'both' });
  });
});
