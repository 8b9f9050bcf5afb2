// A work queue in the manner of client-go's: a key is queued at most once, never processed by two
// workers at once (a key added while it is processed is processed again afterwards), failures are
// retried with per-key exponential backoff, and delayed adds are timers cleared on shutDown.

export interface QueueOptions {
  /** First retry delay (default 500 ms). */
  baseDelayMs?: number;
  /** Largest retry delay (default 30 s). */
  maxDelayMs?: number;
}

/**
 * `high`: the server itself changed (new, spec edit, deletion); `low`: something it owns or reads
 * changed (Deployment status, a ConfigMap), retries and resyncs. High keys are served first, so a
 * burst of new servers gets its objects before anyone's status is refreshed.
 */
export type Priority = 'high' | 'low';

export class WorkQueue {
  private queue: string[] = [];
  private lowQueue: string[] = [];
  private queued = new Set<string>();
  private processing = new Set<string>();
  private dirty = new Set<string>();
  private failures = new Map<string, number>();
  private timers = new Map<string, NodeJS.Timeout>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private stopped = false;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  constructor(opts: QueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
  }

  get length(): number {
    return this.queue.length + this.lowQueue.length;
  }

  get busy(): number {
    return this.processing.size;
  }

  add(key: string, priority: Priority = 'high'): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) {
      // promote a waiting low-priority key
      if (priority === 'high') {
        const i = this.lowQueue.indexOf(key);
        if (i >= 0) {
          this.lowQueue.splice(i, 1);
          this.queue.push(key);
        }
      }
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      this.processing.add(key);
      w(key);
      return;
    }
    this.queued.add(key);
    (priority === 'high' ? this.queue : this.lowQueue).push(key);
  }

  /** Adds after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number, priority: Priority = 'low'): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key, priority);
    if (this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, priority);
    }, ms);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** Retry with exponential backoff; returns the delay used. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    // a little jitter so a burst of failures does not retry in lockstep
    this.addAfter(key, Math.round(delay * (0.9 + Math.random() * 0.2)));
    return delay;
  }

  /** Clears the backoff of a key (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key, or undefined once shut down. */
  get(): Promise<string | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.queue.shift() ?? this.lowQueue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.queue = [];
    this.lowQueue = [];
    this.queued.clear();
  }
}
