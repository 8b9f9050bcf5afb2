import { describe, expect, it } from 'vitest';
import { isRefusal, type Refusal } from '../refusal.js';
import { decodeHeaderValue, modernizeResult, stripEnvelope, verifyRequest } from './meta.js';
import { checkParamHeaders, scanParamHeaders } from './param-headers.js';
import { EXPIRED, RequestStateSigner } from './request-state.js';

const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { sampling: {} }, 'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' } };
const headers = (o: Partial<{ protocolVersion: string; method: string; name: string }> = {}) => ({ protocolVersion: '2026-07-28', method: 'tools/call', name: 'echo', ...o });

describe('verifyRequest', () => {
  it('accepts agreeing headers and reads the envelope', () => {
    const env = verifyRequest(headers(), 'tools/call', { name: 'echo', _meta: { ...meta, traceparent: 'tp', 'io.modelcontextprotocol/logLevel': 'info' } }, true);
    expect(isRefusal(env)).toBe(false);
    expect(env).toMatchObject({ protocolVersion: '2026-07-28', clientCapabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' }, logLevel: 'info', traceparent: 'tp' });
  });
  it.each([
    ['missing version', headers({ protocolVersion: undefined }), -32020],
    ['missing method', headers({ method: undefined }), -32020],
    ['missing name', headers({ name: undefined }), -32020],
    ['method mismatch', headers({ method: 'tools/list' }), -32020],
    ['name mismatch', headers({ name: 'other' }), -32020],
    ['bad base64', headers({ name: '=?base64?***?=' }), -32020],
    ['version mismatch', headers({ protocolVersion: '2030-01-01' }), -32020],
  ])('%s', (_, h, code) => {
    const r = verifyRequest(h as never, 'tools/call', { name: 'echo', _meta: meta }, true) as Refusal;
    expect(r.status).toBe(400);
    expect(r.code).toBe(code);
  });
  it('an unknown version claimed by header and body alike is unsupported (-32022)', () => {
    const r = verifyRequest(headers({ protocolVersion: '2030-01-01' }), 'tools/call', { name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2030-01-01' } }, true) as Refusal;
    expect(r.status).toBe(400);
    expect(r.code).toBe(-32022);
  });
  it('body version must match the header; envelope fields are required', () => {
    expect((verifyRequest(headers(), 'tools/call', { name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } }, true) as Refusal).code).toBe(-32020);
    expect((verifyRequest(headers(), 'tools/call', { name: 'echo' }, true) as Refusal).code).toBe(-32602);
    expect((verifyRequest(headers(), 'tools/call', { name: 'echo', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }, true) as Refusal).code).toBe(-32602);
  });
  it('Mcp-Name is only required where the spec requires it; resources/read compares the uri', () => {
    expect(isRefusal(verifyRequest(headers({ method: 'tools/list', name: undefined }), 'tools/list', { _meta: meta }, true))).toBe(false);
    expect(isRefusal(verifyRequest(headers({ method: 'resources/read', name: 'file:///a' }), 'resources/read', { uri: 'file:///a', _meta: meta }, true))).toBe(false);
  });
});

describe('header values', () => {
  it('decodes the base64 sentinel', () => {
    expect(decodeHeaderValue(`=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`)).toBe('Hello, 世界');
    expect(decodeHeaderValue('plain')).toBe('plain');
  });
});

describe('results and envelopes', () => {
  it('modernizes a 2025 result', () => {
    expect(modernizeResult('tools/list', { tools: [] }, { name: 's', version: '1' })).toEqual({
      tools: [],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '1' } },
    });
  });
  it('strips only the envelope keys', () => {
    const params: Record<string, unknown> = { _meta: { ...meta, progressToken: 1, traceparent: 'tp' } };
    stripEnvelope(params);
    expect(params._meta).toEqual({ progressToken: 1, traceparent: 'tp' });
    const bare: Record<string, unknown> = { _meta: { ...meta } };
    stripEnvelope(bare);
    expect(bare._meta).toBeUndefined();
  });
});

describe('RequestStateSigner', () => {
  const claims = { held: 'h', sub: 'alice', op: 'tools/call ask', exp: Date.now() + 1000, node: 'n' };
  it('round-trips, refuses tampering, expiry and foreign keys', () => {
    const signer = new RequestStateSigner();
    const token = signer.sign(claims);
    expect(signer.verify(token)).toEqual(claims);
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');
    expect(signer.verify(`${forged}.${mac}`)).toBe('requestState failed verification');
    expect(signer.verify(`${body}.${mac![0] === 'A' ? 'B' : 'A'}${mac!.slice(1)}`)).toBe('requestState failed verification');
    expect(signer.verify(token, claims.exp + 1)).toBe(EXPIRED);
    expect(new RequestStateSigner().verify(token)).toBe('requestState failed verification');
    expect(new RequestStateSigner(Buffer.alloc(32, 1)).verify(new RequestStateSigner(Buffer.alloc(32, 1)).sign(claims))).toEqual(claims);
  });
});

describe('x-mcp-header', () => {
  const schema = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, opts: { type: 'object', properties: { n: { type: 'integer', 'x-mcp-header': 'N' }, on: { type: 'boolean', 'x-mcp-header': 'On' } } } } };
  it('finds statically reachable declarations and refuses invalid ones', () => {
    expect(scanParamHeaders(schema)?.map((d) => [d.header, d.path.join('.')])).toEqual([['mcp-param-region', 'region'], ['mcp-param-n', 'opts.n'], ['mcp-param-on', 'opts.on']]);
    expect(scanParamHeaders({ type: 'object', properties: { x: { type: 'number', 'x-mcp-header': 'X' } } })).toBeUndefined();
    expect(scanParamHeaders({ type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'A' }, b: { type: 'string', 'x-mcp-header': 'a' } } })).toBeUndefined();
  });
  it('compares decoded values by type', () => {
    const d = scanParamHeaders(schema)!;
    const h = (m: Record<string, string>) => (name: string) => m[name];
    expect(checkParamHeaders(d, { region: 'eu', opts: { n: 42, on: true } }, h({ 'mcp-param-region': 'eu', 'mcp-param-n': '42.0', 'mcp-param-on': 'true' }))).toBeUndefined();
    expect(checkParamHeaders(d, { region: 'eu' }, h({}))).toMatch(/missing/);
    expect(checkParamHeaders(d, { opts: { n: 42 } }, h({ 'mcp-param-n': '43' }))).toMatch(/does not match/);
    expect(checkParamHeaders(d, { region: null }, h({}))).toBeUndefined();
  });
});
