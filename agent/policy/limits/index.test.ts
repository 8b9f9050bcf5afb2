import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/jsonrpc.js';
import type { Principal, Refusal } from '../types.js';
import { Limits } from './index.js';

const who = (key: string): Principal => ({ key, sub: key, claims: {}, scopes: [] });

describe('Limits', () => {
  it('token bucket refills over time; Retry-After says when the next token comes', () => {
    let now = 1_000_000;
    let limited = 0;
    const l = new Limits({ requestsPerMinute: 6, burst: 2, now: () => now, metrics: { limited: () => limited++ } });
    const a = who('a');
    (l.admit(a) as () => void)();
    (l.admit(a) as () => void)();
    const r = l.admit(a) as Refusal;
    expect(r.status).toBe(429);
    expect(r.code).toBe(ErrorCode.RateLimited);
    expect(r.headers['Retry-After']).toBe('10');
    // ToolHive's shape, so its clients read it: -32029 with data.retryAfterSeconds.
    expect(r.toError()).toEqual({ code: -32029, message: 'Rate limit exceeded', data: { retryAfterSeconds: 10 } });
    expect(limited).toBe(1);
    expect(typeof l.admit(who('b'))).toBe('function'); // buckets are per principal
    now += 10_000;
    expect(typeof l.admit(a)).toBe('function');
    expect((l.admit(a) as Refusal).status).toBe(429);
  });

  it('a refused request takes no slot and no token', () => {
    let now = 0;
    const l = new Limits({ maxConcurrentRequests: 1, requestsPerMinute: 60, burst: 1, now: () => now });
    const release = l.admit(who('a')) as () => void;
    expect((l.admit(who('a')) as Refusal).status).toBe(503);
    expect(l.inFlight).toBe(1);
    release();
    expect(l.inFlight).toBe(0);
    now += 1000;
    expect(typeof l.admit(who('a'))).toBe('function');
  });

  it('defaults: 100 in flight, 30 s timeout, 4 MiB bodies', () => {
    const l = new Limits();
    expect(l.requestTimeoutMs).toBe(30_000);
    expect(l.maxBodyBytes).toBe(4 * 1024 * 1024);
    const releases = Array.from({ length: 100 }, () => l.admit(who('x')) as () => void);
    expect((l.admit(who('y')) as Refusal).code).toBe(ErrorCode.Overloaded);
    for (const r of releases) r();
    expect(l.inFlight).toBe(0);
  });
});
