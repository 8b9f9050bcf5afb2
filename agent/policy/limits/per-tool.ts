// Rate limits per tool and principal (limits.perTool): a token bucket per (principal, tool), the
// tool's own rule or the `*` rule. Beyond it: 429 with Retry-After, JSON-RPC -32029 with
// data.retryAfterSeconds, as for the per-principal limit.
import type { ToolRateLimit } from '../../../api/v1beta1/operations.js';
import { Refusals, type PolicyMetrics, type Principal, type Refusal } from '../types.js';
import { rateOf, refilled, takeToken, type Bucket as Tokens, type Rate } from './bucket.js';

interface Bucket extends Tokens {
  rule: Rate;
}

const MAX_BUCKETS = 50_000;

export class ToolRateLimits {
  private readonly rules = new Map<string, Rate>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    limits: readonly ToolRateLimit[],
    private readonly metrics?: PolicyMetrics,
    private readonly now: () => number = Date.now,
  ) {
    for (const l of limits) this.rules.set(l.tool, rateOf(l.requestsPerMinute, l.burst));
  }

  /** Takes one call of `tool` for `principal`: null, or the refusal. */
  take(principal: Principal, tool: string): Refusal | null {
    const rule = this.rules.get(tool) ?? this.rules.get('*');
    if (rule === undefined) return null;
    const now = this.now();
    const key = `${principal.key}\u0000${tool}`;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(now);
      b = { tokens: rule.capacity, last: now, rule };
      this.buckets.set(key, b);
    }
    const retry = takeToken(b, rule, now);
    if (retry === 0) return null;
    this.metrics?.limited?.('tool-rate');
    return Refusals.rateLimited(`Rate limit exceeded for tool ${tool}`, retry, 'per-tool rate limit');
  }

  /** Forgets buckets that have refilled. */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (refilled(b, b.rule, now)) this.buckets.delete(k);
  }
}
