// Status writes that happen only when the status changed. The informer cache lags behind our own
// writes, so the last written status (with the object's uid) stands in until the cache catches up.
import type { KubeClient } from '../client.js';
import type { Obj } from './types.js';

type WithStatus<S> = Obj & { status?: S };

export class StatusWriter<S> {
  private readonly written = new Map<string, { uid: string; status: S }>();
  writes = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly equal: (a: S, b: S | undefined) => boolean,
  ) {}

  /** From the informer: once the cache shows what we wrote, the cache is the truth again. */
  observed(key: string, o: WithStatus<S>): void {
    const w = this.written.get(key);
    if (w && this.equal(w.status, o.status)) this.written.delete(key);
  }

  /** The status as it is now: our last write when the cache has not caught up with it yet. */
  current(key: string, o: WithStatus<S>): S | undefined {
    const w = this.written.get(key);
    return w && w.uid === o.metadata.uid ? w.status : o.status;
  }

  /** Writes `status` (merge patch on the status subresource) unless it is the current one. */
  async write(key: string, kind: string, o: WithStatus<S>, status: S): Promise<void> {
    if (this.equal(status, this.current(key, o))) return;
    try {
      await this.client.mergePatch(kind, o.metadata.name!, o.metadata.namespace, { status }, 'status');
      this.writes++;
      this.written.set(key, { uid: o.metadata.uid ?? '', status });
    } catch (e) {
      if ((e as { status?: number }).status === 404) return; // deleted meanwhile
      throw e;
    }
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
