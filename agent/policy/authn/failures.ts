// Failure rate limiting: a client address that presents more than `max` wrong credentials in a
// minute is answered 429 (JSON-RPC -32029 with retryAfterSeconds, as ToolHive answers a rate
// limit) until its minute is over, before any credential is checked — so guessing keys or
// passwords, and making the agent pay for bcrypt, stops at `max` a minute. A request without
// credentials is no failure (clients probe without a token to discover the authorization server).
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { Refusal } from '../types.js';

export interface FailureLimiterOptions {
  maxPerMinute: number;
  /** Addresses tracked at once (default 10,000); the oldest windows go first. */
  capacity?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;

export class FailureLimiter {
  /** Address → its window: start (epoch ms) and failures in it. Insertion order is age order. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(private readonly o: FailureLimiterOptions) {
    this.capacity = o.capacity ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** The 429 for an address over its limit, else undefined. Free while no address has failed. */
  check(address: string | undefined): Refusal | undefined {
    if (this.windows.size === 0) return undefined;
    const w = this.windows.get(address ?? '');
    if (w === undefined || w.count < this.o.maxPerMinute) return undefined;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(address ?? '');
      return undefined;
    }
    const retry = Math.ceil(left / 1000);
    return new Refusal(429, ErrorCode.RateLimited, 'Too many failed authentication attempts', { 'Retry-After': String(retry) }, 'authentication failure limit', { retryAfterSeconds: retry });
  }

  record(address: string | undefined): void {
    const key = address ?? '';
    const now = this.now();
    const w = this.windows.get(key);
    if (w !== undefined && now - w.start < WINDOW_MS) {
      w.count++;
      return;
    }
    if (w !== undefined) this.windows.delete(key);
    else if (this.windows.size >= this.capacity) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { start: now, count: 1 });
  }

  get tracked(): number {
    return this.windows.size;
  }
}
