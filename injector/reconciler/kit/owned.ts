// The objects reconcilers own: an index from owner key to owned objects (fed by the owned kinds'
// informers), and the applier — server-side apply skipped when the applied hash is unchanged,
// create for new objects, prune of what is no longer desired.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError, isConflict, type KubeClient } from '../client.js';
import { shortHash } from '../names.js';
import { objKey, type Cached, type Logger, type Obj } from './types.js';

export interface OwnedObjectsOptions {
  client: KubeClient;
  fieldManager: string;
  /** Annotation that carries the hash of what was applied. */
  hashAnnotation: string;
  log: Logger;
}

export class OwnedObjects {
  /** Owner key → owned objects (kind/ns/name). */
  private readonly index = new Map<string, Set<string>>();
  /** Last applied hash per object, for when the cache lags behind our own apply. */
  private readonly applied = new Map<string, string>();
  private readonly caches = new Map<string, Cached<Obj>>();
  applies = 0;

  constructor(private readonly o: OwnedObjectsOptions) {}

  /**
   * Tracks `kind` through its informer: `ownerOf` maps an object to its owner's key (or undefined
   * when it is not ours); `onChange` hears the owner key of every change.
   */
  track(kind: string, informer: Cached<Obj>, ownerOf: (o: Obj) => string | undefined, onChange: (ownerKey: string) => void): void {
    this.caches.set(kind, informer);
    const on = (deleted: boolean) => (o: Obj) => {
      const owner = ownerOf(o);
      if (!owner) return;
      const k = objKey(kind, o.metadata.namespace, o.metadata.name!);
      let set = this.index.get(owner);
      if (deleted) {
        set?.delete(k);
        this.applied.delete(k);
      } else {
        if (!set) this.index.set(owner, (set = new Set()));
        set.add(k);
      }
      onChange(owner);
    };
    informer.on('add', on(false));
    informer.on('update', on(false));
    informer.on('delete', on(true));
  }

  /** Keys (kind/ns/name) of what `owner` owns, as the caches see it. */
  of(owner: string): string[] {
    return [...(this.index.get(owner) ?? [])];
  }

  get<T extends KubernetesObject>(kind: string, name: string, namespace?: string): T | undefined {
    return this.caches.get(kind)?.get(name, namespace) as T | undefined;
  }

  /** Applies `obj` unless the cache (or our last apply) shows the same hash; `force` applies anyway. */
  async apply(obj: KubernetesObject, force = false): Promise<KubernetesObject | undefined> {
    const hash = shortHash(JSON.stringify(obj), 16);
    obj.metadata!.annotations = { ...(obj.metadata!.annotations ?? {}), [this.o.hashAnnotation]: hash };
    const k = objKey(obj.kind!, obj.metadata!.namespace, obj.metadata!.name!);
    const cached = this.get(obj.kind!, obj.metadata!.name!, obj.metadata!.namespace);
    if (!force && cached && (cached.metadata?.annotations?.[this.o.hashAnnotation] === hash || this.applied.get(k) === hash)) return cached;
    let result: KubernetesObject | undefined;
    if (!cached && !this.applied.has(k)) {
      // A new object: create it (half the API server cost of an apply, which matters when
      // hundreds of servers arrive at once). The creation is recorded as an Update by our field
      // manager; the first later apply converts that entry to Apply (ownFields) so that fields
      // dropped from the desired object are removed as with any apply.
      try {
        result = await this.o.client.create(obj, this.o.fieldManager);
      } catch (e) {
        if (!isConflict(e)) throw e; // 409: it exists after all (cache behind) → apply below
      }
    }
    if (!result) {
      await this.ownFields(obj.kind!, cached ?? (await this.o.client.getOrUndefined<Obj>(obj.kind!, obj.metadata!.name!, obj.metadata!.namespace)));
      result = await this.o.client.apply(obj, this.o.fieldManager);
    }
    this.applies++;
    this.applied.set(k, hash);
    return result;
  }

  /** Deletes what `owner` owns that is not in `desired` (e.g. the SA once the spec names one). */
  async prune(owner: string, desired: KubernetesObject[]): Promise<void> {
    const want = new Set(desired.map((d) => objKey(d.kind!, d.metadata!.namespace, d.metadata!.name!)));
    await Promise.all(
      this.of(owner)
        .filter((k) => !want.has(k))
        .map(async (k) => {
          const [kind, ns, name] = k.split('/');
          this.o.log.info({ key: owner, object: k }, 'deleting object no longer desired');
          await this.o.client.delete(kind!, name!, ns);
        }),
    );
  }

  /**
   * Turns our `Update` managedFields entry (left by a create) into an `Apply` entry, the way
   * client-go's csaupgrade does for kubectl: afterwards the apply owns those fields and removes
   * the ones it no longer sends.
   */
  private async ownFields(kind: string, live: KubernetesObject | undefined): Promise<void> {
    const mf = live?.metadata?.managedFields ?? [];
    const mine = (m: (typeof mf)[number]) => m.manager === this.o.fieldManager && !m.subresource;
    const i = mf.findIndex((m) => mine(m) && m.operation === 'Update');
    if (i < 0 || mf.some((m) => mine(m) && m.operation === 'Apply')) return;
    try {
      await this.o.client.jsonPatch(kind, live!.metadata!.name!, live!.metadata!.namespace, [
        { op: 'test', path: `/metadata/managedFields/${i}/manager`, value: this.o.fieldManager },
        { op: 'test', path: `/metadata/managedFields/${i}/operation`, value: 'Update' },
        { op: 'replace', path: `/metadata/managedFields/${i}/operation`, value: 'Apply' },
      ]);
    } catch (e) {
      // 422 from a failed test: the cache was stale and someone already changed the entries.
      if (!(e instanceof ApiError && (e.status === 422 || e.status === 409 || e.status === 404))) throw e;
    }
  }
}
