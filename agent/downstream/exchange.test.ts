import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPath, JsonReply, nodeExchange, toResponse, writeReply, type Reply } from './exchange.js';
import { sseBody } from './sse.js';

let reply: () => Reply;
let seen: { header: (n: string) => string | undefined } | undefined;
const server = http.createServer((req, res) => {
  const x = nodeExchange(req, res);
  seen = x.req;
  writeReply(res, reply());
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the node:http front end', () => {
  it('writes a JsonReply with its status, headers and length, and reads request headers case-insensitively', async () => {
    reply = () => new JsonReply('{"jsonrpc":"2.0","id":1,"result":{"é":1}}', { 'Mcp-Session-Id': 'abc' });
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'Mcp-Session-Id': 'in', 'X-Two': 'a' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('mcp-session-id')).toBe('abc');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength('{"jsonrpc":"2.0","id":1,"result":{"é":1}}'));
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { é: 1 } });
    expect(seen!.header('Mcp-Session-Id')).toBe('in');
    expect(seen!.header('x-two')).toBe('a');
    expect(seen!.header('absent')).toBeUndefined();
  });

  it('writes a Response: an empty one, and a stream as it is produced', async () => {
    reply = () => new Response(null, { status: 202 });
    expect((await fetch(`${base}/mcp`, { method: 'POST', body: '{}' })).status).toBe(202);
    let writer!: ReturnType<typeof sseBody>['writer'];
    reply = () => {
      const made = sseBody(() => {});
      writer = made.writer;
      return new Response(made.body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    };
    const res = await fetch(`${base}/mcp`, { method: 'POST', body: '{}' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    writer.write('data: one\n\n');
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    writer.write('data: two\n\n');
    writer.close();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('turns a JsonReply into a Response for Hono', async () => {
    const res = toResponse(new JsonReply('{"a":1}', { 'Retry-After': '1' }, 503));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ a: 1 });
  });

  it('matches a path with or without a query, nothing longer', () => {
    expect(isPath('/mcp', '/mcp')).toBe(true);
    expect(isPath('/mcp?x=1', '/mcp')).toBe(true);
    expect(isPath('/mcpx', '/mcp')).toBe(false);
    expect(isPath('/mcp/', '/mcp')).toBe(false);
    expect(isPath(undefined, '/mcp')).toBe(false);
  });
});
