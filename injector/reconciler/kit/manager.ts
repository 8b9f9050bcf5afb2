// Runs reconcilers: one work queue for every kind (keys `<kind>/<ns>/<name>`), N workers, a
// periodic resync. Level-triggered: a key says only "look at this object again".
import { WorkQueue, type Priority } from './queue.js';
import { kindOfKey, type Logger, type Reconciler } from './types.js';

export interface ManagerOptions {
  workers: number;
  resyncMs: number;
  backoff: { baseDelayMs: number; maxDelayMs: number };
  log: Logger;
}

export class Manager {
  private readonly queue: WorkQueue;
  private readonly reconcilers = new Map<string, Reconciler>();
  private readonly workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  reconciles = 0;
  errors = 0;

  constructor(private readonly o: ManagerOptions) {
    this.queue = new WorkQueue(o.backoff);
  }

  register(r: Reconciler): void {
    this.reconcilers.set(r.kind, r);
  }

  enqueue(key: string, priority: Priority = 'high'): void {
    this.queue.add(key, priority);
  }

  /** Coalesces bursts (a Deployment's status moves in several updates). */
  enqueueAfter(key: string, ms: number, priority: Priority = 'low'): void {
    this.queue.addAfter(key, ms, priority);
  }

  /** Starts the workers and enqueues every key; then resyncs every `resyncMs`. */
  run(): void {
    for (let i = 0; i < this.o.workers; i++) this.workers.push(this.work());
    this.enqueueAll();
    this.resyncTimer = setInterval(() => {
      for (const r of this.reconcilers.values()) r.resync?.();
      this.enqueueAll();
    }, this.o.resyncMs);
    this.resyncTimer.unref?.();
  }

  /** Reconciles `key` once, now, outside the queue (tests). */
  reconcile(key: string) {
    const r = this.reconcilers.get(kindOfKey(key));
    if (!r) throw new Error(`no reconciler for ${key}`);
    this.reconciles++;
    return r.reconcile(key);
  }

  get queued(): number {
    return this.queue.length;
  }

  get busy(): number {
    return this.queue.busy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private enqueueAll(): void {
    for (const r of this.reconcilers.values()) for (const key of r.keys()) this.queue.add(key, 'low');
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = this.stopped ? {} : await this.reconcile(key);
        if (result.requeue) this.queue.addRateLimited(key);
        else {
          this.queue.forget(key);
          if (result.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs, 'low');
        }
      } catch (e) {
        this.errors++;
        if (!this.stopped) {
          const delay = this.queue.addRateLimited(key);
          this.o.log.warn({ key, err: (e as Error).message, retryMs: delay }, 'reconcile failed; will retry');
        }
      } finally {
        this.queue.done(key);
      }
    }
  }
}
