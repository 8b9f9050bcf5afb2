// Rate limits per tool and principal (limits.perTool): a token bucket per (principal, tool), the
// tool's own rule or the `*` rule. Beyond it: 429 with Retry-After, JSON-RPC -32029 with
// data.retryAfterSeconds, as for the per-principal limit.
import type { ToolRateLimit } from '../../../api/v1beta1/operations.js';
import { Refusals, type PolicyMetrics, type Principal, type Refusal } from '../types.js';

interface Rule {
  perMs: number;
  capacity: number;
}
interface Bucket {
  tokens: number;
  last: number;
  rule: Rule;
}

const MAX_BUCKETS = 50_000;

export class ToolRateLimits {
  private readonly rules = new Map<string, Rule>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    limits: readonly ToolRateLimit[],
    private readonly metrics?: PolicyMetrics,
    private readonly now: () => number = Date.now,
  ) {
    for (const l of limits) this.rules.set(l.tool, { perMs: l.requestsPerMinute / 60_000, capacity: l.burst ?? l.requestsPerMinute });
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
    b.tokens = Math.min(rule.capacity, b.tokens + (now - b.last) * rule.perMs);
    b.last = now;
    if (b.tokens < 1) {
      this.metrics?.limited?.('tool-rate');
      const retry = Math.max(1, Math.ceil((1 - b.tokens) / rule.perMs / 1000));
      return Refusals.rateLimited(`Rate limit exceeded for tool ${tool}`, retry, 'per-tool rate limit');
    }
    b.tokens -= 1;
    return null;
  }

  /** Forgets buckets that have refilled. */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.last) * b.rule.perMs >= b.rule.capacity) this.buckets.delete(k);
  }
}
