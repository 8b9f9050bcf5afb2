import { describe, expect, it } from 'vitest';
import { principalNamed } from '../../core/principal.js';
import { ToolRateLimits } from './per-tool.js';

describe('per-tool rate limits', () => {
  it('a bucket per principal and tool; the * rule for tools without their own; 429 with the retry hint', () => {
    let now = 0;
    const limits = new ToolRateLimits([{ tool: 'search', requestsPerMinute: 60, burst: 2 }, { tool: '*', requestsPerMinute: 1 }], undefined, () => now);
    const alice = principalNamed('alice');
    const bob = principalNamed('bob');
    expect(limits.take(alice, 'search')).toBeNull();
    expect(limits.take(alice, 'search')).toBeNull();
    const r = limits.take(alice, 'search')!;
    expect(r.status).toBe(429);
    expect(r.toError()).toMatchObject({ code: -32029, data: { retryAfterSeconds: 1 } });
    expect(r.headers).toEqual({ 'Retry-After': '1' });
    expect(limits.take(bob, 'search')).toBeNull();
    now += 1000;
    expect(limits.take(alice, 'search')).toBeNull();
    expect(limits.take(alice, 'other')).toBeNull();
    expect(limits.take(alice, 'other')!.toError().data).toEqual({ retryAfterSeconds: 60 });
  });
});
