import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { ClientSession } from './client-session.js';
import { UpstreamSession } from './upstream-session.js';

/** A server that answers initialize and nothing else. */
class SilentServer implements UpstreamTransport {
  readonly description = 'silent test server';
  onmessage?: (message: JsonRpcMessage) => void;
  start = async () => {};
  close = async () => {};
  send(frame: string): void {
    const m = JSON.parse(frame) as { id?: number; method?: string };
    if (m.method !== 'initialize') return;
    queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: m.id!, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'silent', version: '1' } } }));
  }
}

describe('UpstreamSession', () => {
  it('logs a request timeout at warn with the method, upstream id and session', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const upstream = new UpstreamSession({
      connect: () => new SilentServer(),
      logger: pino({ level: 'warn' }, sink),
      clientInfo: { name: 't', version: '1' },
      capabilities: {},
      requestTimeoutMs: 100,
      initializeTimeoutMs: 1000,
      restartMinDelayMs: 10,
      restartMaxDelayMs: 10,
    });
    await upstream.start();
    const session = new ClientSession('session-1', { key: 'k' }, '2025-11-25', {}, {});
    upstream.attach(session);
    const answered = new Promise<string>((respond) => upstream.request(session, { jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'x' } }, { respond, related: () => {}, abandon: () => {} }));
    expect(JSON.parse(await answered).error.code).toBe(-32002);
    const line = lines.find((l) => l.level === 40 && l.method === 'tools/call');
    expect(line).toMatchObject({ method: 'tools/call', upstreamId: expect.any(Number), session: 'session-1', timeoutMs: 100 });
    await upstream.stop();
  });
});
