// Limits stage: in-flight requests globally and per principal (503, JSON-RPC -32006) and a
// per-principal token bucket (429 with Retry-After). The request timeout and body size limit are
// values the transports apply; they live here so all limits come from one place.
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { Refusal, Refusals, type PolicyMetrics, type Principal } from '../types.js';
import { rateOf, refilled, takeToken, type Bucket as Tokens, type Rate } from './bucket.js';

export interface LimitOptions {
  /** In-flight requests across all principals (default 100). */
  maxConcurrentRequests?: number;
  /** In-flight requests per principal (unset: only the global limit). */
  perPrincipalConcurrentRequests?: number;
  /** Sustained requests per minute per principal (unset: no rate limit). */
  requestsPerMinute?: number;
  /** Bucket size (default requestsPerMinute). */
  burst?: number;
  /** Exposed for the transport. */
  requestTimeoutMs?: number;
  /** Exposed for the transport. */
  maxBodyBytes?: number;
  metrics?: PolicyMetrics;
  /** Clock, for tests. */
  now?: () => number;
}

interface Bucket extends Tokens {
  inflight: number;
}

export class Limits {
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  private readonly max: number;
  private readonly perPrincipal: number;
  /** undefined: no rate limit. */
  private readonly rate: Rate | undefined;
  private readonly now: () => number;
  private inflight = 0;
  private readonly buckets = new Map<string, Bucket>();
  private readonly overloaded: Refusal;
  private readonly principalOverloaded: Refusal;

  constructor(private readonly o: LimitOptions = {}) {
    this.max = o.maxConcurrentRequests ?? 100;
    this.perPrincipal = o.perPrincipalConcurrentRequests ?? Infinity;
    this.rate = o.requestsPerMinute ? rateOf(o.requestsPerMinute, o.burst) : undefined;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
    this.maxBodyBytes = o.maxBodyBytes ?? 4 * 1024 * 1024;
    this.now = o.now ?? Date.now;
    this.overloaded = new Refusal(503, ErrorCode.Overloaded, 'Server busy: too many concurrent requests', { 'Retry-After': '1' }, 'global concurrency limit');
    this.principalOverloaded = new Refusal(503, ErrorCode.Overloaded, 'Too many concurrent requests for this client', { 'Retry-After': '1' }, 'per-principal concurrency limit');
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Takes a slot: returns the release function (idempotent), or a Refusal. */
  admit(principal: Principal): (() => void) | Refusal {
    if (this.inflight >= this.max) {
      this.o.metrics?.limited?.('concurrency');
      return this.overloaded;
    }
    const tracked = this.rate !== undefined || this.perPrincipal !== Infinity;
    if (!tracked) {
      this.inflight++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        this.inflight--;
      };
    }
    const now = this.now();
    let b = this.buckets.get(principal.key);
    if (b === undefined) {
      if (this.buckets.size >= 50_000) this.sweep(now);
      b = { tokens: this.rate?.capacity ?? 0, last: now, inflight: 0 };
      this.buckets.set(principal.key, b);
    }
    if (b.inflight >= this.perPrincipal) {
      this.o.metrics?.limited?.('principal-concurrency');
      return this.principalOverloaded;
    }
    if (this.rate !== undefined) {
      const retry = takeToken(b, this.rate, now);
      if (retry > 0) {
        this.o.metrics?.limited?.('rate');
        return Refusals.rateLimited('Rate limit exceeded', retry, 'rate limit');
      }
    }
    this.inflight++;
    b.inflight++;
    const bucket = b;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inflight--;
      bucket.inflight--;
    };
  }

  /** Forgets idle principals whose bucket has refilled. */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.inflight === 0 && (this.rate === undefined || refilled(b, this.rate, now))) this.buckets.delete(k);
    }
  }
}
