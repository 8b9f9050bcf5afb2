import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { principalNamed } from '../core/principal.js';
import { hostPolicy } from '../ops/host.js';
import { Refusal } from '../protocol/refusal.js';
import { originPolicy } from '../ops/origin.js';
import type { DownstreamContext } from './context.js';
import { JsonReply, toResponse, type Exchange, type Reply } from './exchange.js';
import { ACCEPT_JSON_AND_SSE, ACCEPT_SSE_OR_NONE, accepts, checkHostAndOrigin, preamble, readMessage } from './http-common.js';
import type { Credentials } from '../policy/authn/credentials.js';

/** An Exchange over plain headers and a body, as the node:http front end builds one. */
function exchange(headers: Record<string, string>, body = ''): Exchange {
  const incoming = Readable.from(body === '' ? [] : [Buffer.from(body)]) as unknown as IncomingMessage;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { req: { header: (n) => lower[n.toLowerCase()] }, env: { incoming, outgoing: {} as ServerResponse } };
}

const ctx = {
  hostAllowed: hostPolicy('127.0.0.1', []),
  originAllowed: originPolicy([]),
  maxBodyBytes: 64,
  authenticate: (c: Credentials) => (c.authorization === 'Bearer good' ? principalNamed('alice') : new Refusal(401, -32003, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' })),
} as unknown as DownstreamContext;

const json = { 'content-type': 'application/json', host: '127.0.0.1:8080' };
async function errorOf(r: unknown): Promise<{ status: number; code: number; message: string; headers: Headers }> {
  const res = toResponse(r as Reply);
  const body = (await res.json()) as { error: { code: number; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message, headers: res.headers };
}

describe('checkHostAndOrigin', () => {
  it('refuses a foreign Host before looking at the Origin, and a foreign Origin', async () => {
    expect(checkHostAndOrigin(exchange({ host: '127.0.0.1:8080' }), ctx)).toBeUndefined();
    expect(checkHostAndOrigin(exchange({ host: 'localhost:8080', origin: 'http://localhost:3000' }), ctx)).toBeUndefined();
    const rebinding = await errorOf(checkHostAndOrigin(exchange({ host: 'evil.example', origin: 'http://evil.example' }), ctx));
    expect(rebinding).toMatchObject({ status: 403, code: -32600, message: expect.stringContaining('Host evil.example') });
    expect((await errorOf(checkHostAndOrigin(exchange({}), ctx))).message).toContain('without a Host header');
    expect((await errorOf(checkHostAndOrigin(exchange({ host: '127.0.0.1:8080', origin: 'https://other.example' }), ctx))).message).toContain('origin');
  });
});

describe('preamble', () => {
  const host = { host: '127.0.0.1:8080' };
  it('gives the caller, synchronously for a sync authenticator', () => {
    expect(preamble(exchange({ ...host, authorization: 'Bearer good' }), ctx)).toEqual(principalNamed('alice'));
  });

  it('refuses in order: Host/Origin, then Accept, then credentials (with WWW-Authenticate)', async () => {
    expect((await errorOf(preamble(exchange({ host: 'evil.example', accept: 'text/plain' }), ctx, ACCEPT_JSON_AND_SSE))).status).toBe(403);
    expect(await errorOf(preamble(exchange({ ...host, accept: 'application/json' }), ctx, ACCEPT_JSON_AND_SSE))).toMatchObject({ status: 406, code: -32600 });
    const refused = await errorOf(preamble(exchange({ ...host, accept: 'application/json, text/event-stream' }), ctx, ACCEPT_JSON_AND_SSE));
    expect(refused).toMatchObject({ status: 401, code: -32003 });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    // legacy SSE clients may send no Accept at all
    expect(preamble(exchange({ ...host, authorization: 'Bearer good' }), ctx, ACCEPT_SSE_OR_NONE)).toEqual(principalNamed('alice'));
  });

  it('waits for an authenticator that verifies asynchronously', async () => {
    const slow = { ...ctx, authenticate: async () => principalNamed('bob') } as unknown as DownstreamContext;
    const r = preamble(exchange(host), slow);
    expect(r).toBeInstanceOf(Promise);
    expect(await r).toEqual(principalNamed('bob'));
  });
});

describe('readMessage', () => {
  it('reads one JSON-RPC message and keeps only its envelope', async () => {
    const m = await readMessage(exchange(json, '{"jsonrpc":"2.0","id":1,"method":"ping","zz":1}'), ctx);
    expect(m).toEqual({ jsonrpc: '2.0', id: 1, method: 'ping' });
  });

  it('answers what it cannot take with the HTTP status and JSON-RPC code a client can act on', async () => {
    const cases: Array<[Record<string, string>, string, number, number]> = [
      [{ host: 'x' }, '{}', 415, -32600],
      [{ ...json, 'content-length': '65' }, '{}', 413, -32600],
      [json, 'x'.repeat(65), 413, -32600],
      [json, '{"jsonrpc":', 400, -32700],
      [json, '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600],
      [json, '{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600],
    ];
    for (const [headers, body, status, code] of cases) {
      const r = await readMessage(exchange(headers, body), ctx);
      expect(r, body).toBeInstanceOf(JsonReply);
      expect(await errorOf(r), body).toMatchObject({ status, code });
    }
    const withId = await readMessage(exchange(json, '{"jsonrpc":"2.0","id":9,"method":""}'), ctx);
    expect((JSON.parse((withId as JsonReply).body) as { id: unknown }).id).toBe(9);
  });
});

describe('accepts', () => {
  it('matches exact types, wildcards and lists', () => {
    expect(accepts('application/json, text/event-stream', 'text/event-stream')).toBe(true);
    expect(accepts('text/*', 'text/event-stream')).toBe(true);
    expect(accepts('*/*', 'application/json')).toBe(true);
    expect(accepts('application/json', 'text/event-stream')).toBe(false);
    expect(accepts(undefined, 'application/json')).toBe(false);
  });
});

describe('JsonReply', () => {
  it('defaults to 200 and no extra headers', () => {
    expect(new JsonReply('{}')).toMatchObject({ body: '{}', status: 200, headers: undefined });
  });
});
