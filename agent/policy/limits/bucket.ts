// The token-bucket arithmetic both rate limits use (per principal, and per principal and tool).

export interface Rate {
  perMs: number;
  capacity: number;
}

export interface Bucket {
  tokens: number;
  last: number;
}

/** `requestsPerMinute` sustained, `burst` (default: the same number) at once. */
export function rateOf(requestsPerMinute: number, burst?: number): Rate {
  return { perMs: requestsPerMinute / 60_000, capacity: burst ?? requestsPerMinute };
}

/** Refills the bucket to `now` and takes one token: 0 when taken, else the seconds until one is there (≥ 1). */
export function takeToken(b: Bucket, rate: Rate, now: number): number {
  b.tokens = Math.min(rate.capacity, b.tokens + (now - b.last) * rate.perMs);
  b.last = now;
  if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / rate.perMs / 1000));
  b.tokens -= 1;
  return 0;
}

/** Whether the bucket is full again at `now` (it can be forgotten: a new one starts full). */
export function refilled(b: Bucket, rate: Rate, now: number): boolean {
  return b.tokens + (now - b.last) * rate.perMs >= rate.capacity;
}
