import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { PROBE, RawSession, startTestAgent, waitFor } from './harness.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('bad input gets a clear error and leaves other sessions alone', () => {
  let agent: RunningAgent;
  let bystander: RawSession;
  beforeAll(async () => {
    agent = await startTestAgent(['--max-body-bytes', '65536', '--request-timeout', '1', '--', ...PROBE]);
    bystander = await RawSession.open(agent.url);
  });
  afterAll(() => agent.stop(1000));

  const post = (body: string, headers: Record<string, string> = HEADERS) => fetch(agent.url, { method: 'POST', headers, body });

  it.each([
    ['malformed JSON', '{"jsonrpc":"2.0",', 400, -32700],
    ['JSON that is not JSON-RPC', '{"hello":"world"}', 400, -32600],
    ['a number', '42', 400, -32600],
    ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]', 400, -32600],
    ['an empty batch', '[]', 400, -32600],
    ['a request with null id', '{"jsonrpc":"2.0","id":null,"method":"tools/list"}', 400, -32600],
    ['params that are an array', '{"jsonrpc":"2.0","id":1,"method":"initialize","params":[1]}', 400, -32600],
  ])('%s → %i', async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect((await res.json()).error.code).toBe(code);
  });

  it('rejects a batch before it reaches the session (even with a valid session)', async () => {
    const res = await bystander.post([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'exit', arguments: {} } }]);
    expect(res.status).toBe(400);
    expect((await bystander.call(9, 'echo', { text: 'still here' })).result.content[0].text).toBe('still here');
  });

  it('oversized body → 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(70_000) } } });
    const res = await bystander.post(big);
    expect(res.status).toBe(413);
  });

  it('oversized chunked body (no Content-Length) → 413', async () => {
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: agent.port, path: '/mcp', method: 'POST', headers: { ...HEADERS, 'mcp-session-id': bystander.sessionId } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      for (let i = 0; i < 20; i++) req.write('x'.repeat(8192));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('unknown session → 404, missing session → 400', async () => {
    const res = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { ...HEADERS, 'mcp-session-id': 'nope' });
    expect(res.status).toBe(404);
    const missing = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    expect(missing.status).toBe(400);
  });

  it('wrong content type → 415, missing Accept → 406', async () => {
    expect((await post('{}', { 'content-type': 'text/plain', accept: HEADERS.accept })).status).toBe(415);
    expect((await post('{}', { 'content-type': 'application/json', accept: 'application/json' })).status).toBe(406);
  });

  it('unsupported MCP-Protocol-Version → 400', async () => {
    const res = await bystander.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '1999-01-01' });
    expect(res.status).toBe(400);
  });

  it('a disallowed Origin → 403; loopback origin allowed', async () => {
    expect((await bystander.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await bystander.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'http://localhost:3000' })).status).toBe(200);
  });

  it('a server that never answers → timeout error, and the server is told to stop', async () => {
    const r = await bystander.call(5, 'sleep', { ms: 10_000 });
    expect(r.error.code).toBe(-32002);
    expect(r.error.message).toMatch(/did not answer/);
  });

  it('conflicting length headers and truncated bodies: no 5xx, no hang', async () => {
    const raw = async (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(agent.port, '127.0.0.1');
        let out = '';
        socket.setTimeout(2000, () => socket.destroy());
        socket.on('data', (d) => (out += d.toString()));
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
        socket.end(text);
      });
    const conflicting = await raw('POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(conflicting).toMatch(/^HTTP\/1\.1 4\d\d/);
    const truncated = await raw('POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
    expect(truncated).not.toMatch(/^HTTP\/1\.1 5/);
    expect((await bystander.call(10, 'echo', { text: 'ok' })).result.content[0].text).toBe('ok');
  });

  it('seeded fuzz: thousands of byte-level mutations, no 5xx, no crash, other sessions intact', async () => {
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const valid = [
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'fuzz' } } }),
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'f', version: '1' } } }),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }),
      JSON.stringify({ jsonrpc: '2.0', id: 3, result: {} }),
    ];
    const mutate = (s: string) => {
      const bytes = [...Buffer.from(s)];
      const n = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) {
        const pos = Math.floor(rand() * bytes.length);
        const op = rand();
        if (op < 0.4) bytes[pos] = Math.floor(rand() * 256);
        else if (op < 0.7) bytes.splice(pos, 1);
        else bytes.splice(pos, 0, Math.floor(rand() * 256));
      }
      return Buffer.from(bytes);
    };
    const agentHttp = (body: Buffer) =>
      new Promise<number>((resolve) => {
        const req = request({ host: '127.0.0.1', port: agent.port, path: '/mcp', method: 'POST', headers: { ...HEADERS, 'mcp-session-id': bystander.sessionId, 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(-1));
        req.setTimeout(5000, () => req.destroy());
        req.end(body);
      });
    const statuses = new Map<number, number>();
    const deadline = Date.now() + 15_000;
    for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
      const status = await agentHttp(mutate(valid[i % valid.length]!));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    for (const status of statuses.keys()) expect(status, `statuses seen: ${JSON.stringify([...statuses])}`).toBeLessThan(500);
    expect(statuses.has(-1)).toBe(false);
    expect((await bystander.call(11, 'echo', { text: 'survived' })).result.content[0].text).toBe('survived');
  }, 60_000);
});

describe('misbehaving servers', () => {
  it('a server printing garbage before its first message still initializes', async () => {
    const agent = await startTestAgent(['--', 'sh', '-c', 'PROBE_GARBAGE=1 exec node test/fixtures/probe-server.mjs']);
    const s = await RawSession.open(agent.url);
    expect((await s.call(1, 'echo', { text: 'after garbage' })).result.content[0].text).toBe('after garbage');
    await agent.stop(500);
  });

  it('a server that exits during initialize: not ready, retried with backoff, clear status', async () => {
    const agent = await startTestAgent(['--initialize-timeout', '2', '--', 'sh', '-c', 'PROBE_EXIT_ON_INIT=1 exec node test/fixtures/probe-server.mjs'], undefined, {}, false);
    await waitFor(async () => {
      const res = await fetch(agent.url.replace('/mcp', '/readyz'));
      const body = (await res.json()) as { upstream: string };
      return res.status === 503 && /restarting: server exited \(code 3\); next attempt in \d+ ms/.test(body.upstream);
    }, 10_000);
    const init = await fetch(agent.url, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(init.status).toBe(503);
    expect((await init.json()).error.message).toMatch(/not ready/);
    await agent.stop(500);
  });

  it('restarts a server that exits; in-flight requests get an error; sessions survive', async () => {
    const agent = await startTestAgent(['--', ...PROBE]);
    const s = await RawSession.open(agent.url);
    const inflight = s.call(1, 'sleep', { ms: 3000 });
    await new Promise((r) => setTimeout(r, 100));
    const exit = await s.call(2, 'exit', {});
    expect(exit.result.content[0].text).toBe('bye');
    const failed = await inflight;
    expect(failed.error.code).toBe(-32001);
    expect(failed.error.message).toMatch(/restarted/);
    await waitFor(async () => (await fetch(agent.url.replace('/mcp', '/readyz'))).status === 200, 10_000);
    expect((await s.call(3, 'echo', { text: 'back' })).result.content[0].text).toBe('back');
    const metrics = await (await fetch(agent.url.replace('/mcp', '/metrics'))).text();
    expect(metrics).toMatch(/ome_mcp_upstream_restarts_total [1-9]/);
    await agent.stop(500);
  });
});
