import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../agent/agent.js';
import { PROBE, startTestAgent } from './harness.js';

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rebinding', version: '1' } } });

/** One request with a chosen Host (fetch will not send one of ours): status and body. */
function send(agent: RunningAgent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: agent.port, method, path, headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers } }, (res) => {
      // An accepted SSE stream stays open: the status is the answer.
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, body: '' });
        return;
      }
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const WS_UPGRADE = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'mcp' };
const TRANSPORTS: Array<[string, string, string, Record<string, string>, string | undefined]> = [
  ['POST /mcp (initialize)', 'POST', '/mcp', {}, INITIALIZE],
  ['GET /sse', 'GET', '/sse', {}, undefined],
  ['POST /messages', 'POST', '/messages?sessionId=x', {}, INITIALIZE],
  ['GET /ws (upgrade)', 'GET', '/ws', WS_UPGRADE, undefined],
  ['GET /mcp', 'GET', '/mcp', { 'mcp-session-id': 'x' }, undefined],
  ['DELETE /mcp', 'DELETE', '/mcp', { 'mcp-session-id': 'x' }, undefined],
];

describe('DNS rebinding: the Host header is checked before any Origin rule', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('a foreign Host with its own (same-origin) Origin is refused with 403 on every transport, naming the Host', async () => {
    for (const [name, method, path, headers, body] of TRANSPORTS) {
      const res = await send(agent, method, path, { ...headers, host: 'evil.example.com', origin: 'http://evil.example.com' }, body);
      expect(res.status, name).toBe(403);
      // A refused WebSocket upgrade is a bare status line (the Node adapter sends no body there).
      if (headers.upgrade === undefined) expect(JSON.parse(res.body).error.message, name).toContain('Host evil.example.com is not allowed');
    }
  });

  it('a foreign Host without an Origin is refused too', async () => {
    const res = await send(agent, 'POST', '/mcp', { host: `evil.example.com:${agent.port}` }, INITIALIZE);
    expect(res.status).toBe(403);
  });

  it('the loopback names are accepted, with or without a same-origin Origin', async () => {
    for (const host of [`localhost:${agent.port}`, `127.0.0.1:${agent.port}`, `[::1]:${agent.port}`]) {
      expect((await send(agent, 'POST', '/mcp', { host, origin: `http://${host}` }, INITIALIZE)).status, host).toBe(200);
      expect((await send(agent, 'POST', '/mcp', { host }, INITIALIZE)).status, host).toBe(200);
    }
    expect((await send(agent, 'GET', '/ws', { ...WS_UPGRADE, host: `localhost:${agent.port}` })).status).toBe(101);
  });

  it('ops endpoints are not MCP transports: probes by pod IP keep working', async () => {
    expect((await send(agent, 'GET', '/healthz', { host: '10.1.2.3:8080' })).status).toBe(200);
  });
});

describe('--allowed-hosts', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startTestAgent(['--allowed-hosts', 'mcp.example.com,other.example:8443', '--', ...PROBE]);
  });
  afterAll(() => agent.stop(1000));

  it('adds names (any port) and host:port entries (that port)', async () => {
    expect((await send(agent, 'POST', '/mcp', { host: 'mcp.example.com' }, INITIALIZE)).status).toBe(200);
    expect((await send(agent, 'POST', '/mcp', { host: 'other.example:8443' }, INITIALIZE)).status).toBe(200);
    expect((await send(agent, 'POST', '/mcp', { host: 'other.example:9999' }, INITIALIZE)).status).toBe(403);
    expect((await send(agent, 'POST', '/mcp', { host: 'evil.example.com' }, INITIALIZE)).status).toBe(403);
  });
});
