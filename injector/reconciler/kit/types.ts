// The controller kit's vocabulary: what a reconciler is, what it returns, the logger it is given,
// and the cached object shape every informer holds.
import type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** An object with metadata (what the API server always returns). */
export type Obj = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

/** An informer and its cache. */
export type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** What a reconcile asks of the manager next, as controller-runtime's Result does. */
export interface Result {
  /** Retry with the key's exponential backoff (a problem the user must fix, or a transient one). */
  requeue?: boolean;
  /** Look again after this long, without backoff (polling what is not watched), as RequeueAfter does. */
  requeueAfterMs?: number;
}

/**
 * One reconciler per kind. Keys are `<kind>/<namespace>/<name>`; the manager routes a key to the
 * reconciler of its kind. A thrown error is logged and retried with backoff, like `requeue`.
 */
export interface Reconciler {
  readonly kind: string;
  /** Every key of this kind in the cache (startup and periodic resync). */
  keys(): string[];
  /** Called before a periodic resync enqueues every key (e.g. to force re-applies: drift repair). */
  resync?(): void;
  reconcile(key: string): Promise<Result>;
}

/** `ConfigMap/ns/name`: the key of any object in the kit's indexes. */
export const objKey = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

/** The kind of a `<kind>/<namespace>/<name>` key. */
export const kindOfKey = (key: string) => key.slice(0, key.indexOf('/'));
