import { describe, expect, it } from 'vitest';
import { asJsonRpcMessage } from './jsonrpc.js';

describe('asJsonRpcMessage', () => {
  it('keeps a message with only envelope members as it is (no copy on the hot path)', () => {
    const m = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } };
    expect(asJsonRpcMessage(m)).toBe(m);
  });

  it('drops members outside the envelope', () => {
    expect(asJsonRpcMessage({ jsonrpc: '2.0', id: 1, method: 'm', params: {}, zz: 1 })).toEqual({ jsonrpc: '2.0', id: 1, method: 'm', params: {} });
    expect(asJsonRpcMessage({ jsonrpc: '2.0', method: 'n', extra: [] })).toEqual({ jsonrpc: '2.0', method: 'n' });
    expect(asJsonRpcMessage({ jsonrpc: '2.0', id: 'a', result: { x: 1 }, zz: 1 })).toEqual({ jsonrpc: '2.0', id: 'a', result: { x: 1 } });
    expect(asJsonRpcMessage({ jsonrpc: '2.0', id: 'a', error: { code: 1, message: 'm' }, zz: 1 })).toEqual({ jsonrpc: '2.0', id: 'a', error: { code: 1, message: 'm' } });
  });

  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'm', params: [1] }, /params must be an object/],
    [{ jsonrpc: '2.0', id: 1, method: 'm', params: { _meta: 'x' } }, /params\._meta must be an object/],
    [{ jsonrpc: '2.0', method: 'n', params: { _meta: { progressToken: {} } } }, /progressToken/],
    [{ jsonrpc: '2.0', id: 1, result: [] }, /result must be an object/],
    [{ jsonrpc: '2.0', id: 1, result: { _meta: [] } }, /result\._meta must be an object/],
    [{ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'm' } }, /exactly one/],
    [{ jsonrpc: '2.0', id: 1, error: { code: 0.5, message: 'm' } }, /integer/],
  ])('refuses what a strict peer would drop: %j', (value, reason) => {
    expect(asJsonRpcMessage(value)).toMatch(reason);
  });
});
