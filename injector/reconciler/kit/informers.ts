// Informers (list + watch + cache) that restart themselves: a failed watch is restarted with
// backoff, and the first list is retried until it succeeds (API server down, CRDs not yet there).
import { makeInformer, type KubeConfig } from '@kubernetes/client-node';
import { collectionPath, type KubeClient } from '../client.js';
import type { Cached, Logger, Obj } from './types.js';

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 16_000;

export class Informers {
  private readonly all: Cached<Obj>[] = [];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly client: KubeClient,
    private readonly log: Logger,
  ) {}

  /** A new informer of `kind` (not started), optionally in one namespace and by label selector. */
  watch<T extends Obj>(kind: string, namespace?: string, labelSelector?: string): Cached<T> {
    const inf = makeInformer<T>(this.kc, collectionPath(kind, namespace), () => this.client.list<T>(kind, namespace, labelSelector) as never, labelSelector);
    let delay = FIRST_DELAY_MS;
    inf.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.log.warn({ kind, err: (err as Error)?.message ?? String(err), retryMs: delay }, 'watch failed; restarting');
      const t = setTimeout(() => {
        this.restartTimers.delete(t);
        if (!this.stopped) void inf.start().catch(() => {});
      }, delay);
      this.restartTimers.add(t);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
    // The backoff resets once the watch delivers again (not on connect: a relist that fails right
    // after connecting would otherwise retry every 500 ms while the API server is down).
    const reset = () => {
      delay = FIRST_DELAY_MS;
    };
    inf.on('add', reset);
    inf.on('update', reset);
    inf.on('delete', reset);
    this.all.push(inf as unknown as Cached<Obj>);
    return inf;
  }

  /** Starts these informers; resolves once each has listed (or the set was stopped). */
  async start(informers: Cached<Obj>[]): Promise<void> {
    await Promise.all(informers.map((i) => this.startOne(i)));
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restartTimers) clearTimeout(t);
    await Promise.all(this.all.map((i) => i.stop().catch(() => {})));
  }

  private async startOne(inf: Cached<Obj>): Promise<void> {
    let delay = FIRST_DELAY_MS;
    for (;;) {
      if (this.stopped) return;
      try {
        await inf.start();
        return;
      } catch (e) {
        this.log.warn({ err: (e as Error).message, retryMs: delay }, 'initial list failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
  }
}
