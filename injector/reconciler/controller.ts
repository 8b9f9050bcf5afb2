// The reconcile loop for one leadership term: informers for both server kinds and every owned
// kind, a work queue, N workers. Level-triggered: a reconcile reads the server and the caches,
// applies the desired objects (server-side apply, skipped when the applied hash is unchanged),
// prunes what is no longer desired, and writes status only when it changed.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache, type V1ConfigMap, type V1Deployment, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import {
  FIELD_MANAGER,
  FINALIZER_CLUSTER_CLEANUP,
  LABEL_CLUSTER_MCPSERVER,
  LABEL_MANAGED_BY,
  LABEL_MANAGED_BY_VALUE,
  LABEL_MCPSERVER,
} from '../../api/annotations.js';
import {
  API_VERSION,
  CLUSTER_MCPSERVER_KIND,
  MCPSERVER_KIND,
  MCPServerSpec,
  type AnyMCPServer,
  type MCPServerSpec as Spec,
  type MCPServerStatus,
} from '../../api/v1beta1/mcpserver.js';
import type { InjectorSettings } from '../mutation/index.js';
import { ApiError, collectionPath, isConflict, isPermanent, type KubeClient } from './client.js';
import { ANNOTATION_APPLIED_HASH, ANNOTATION_OWNER, buildAll, InjectionDenied, OWNED_KINDS, type DesiredObject, type OwnedKind } from './desired.js';
import { keyOf, parseKey, serviceURL, shortHash, type ServerKind, type ServerRef } from './names.js';
import { WorkQueue } from './queue.js';
import { resolve as resolveSpec, type Lookup } from './resolve.js';
import { deriveStatus, statusEqual } from './status.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ControllerOptions {
  kc: KubeConfig;
  client: KubeClient;
  /** Namespace of ClusterMCPServer objects. */
  namespace: string;
  /** Only MCPServers of this namespace (default: all namespaces). */
  watchNamespace?: string;
  injector: InjectorSettings;
  workers: number;
  clusterDomain: string;
  resyncMs: number;
  backoff: { baseDelayMs: number; maxDelayMs: number };
  identity: string;
  log: Logger;
}

export interface ControllerStats {
  reconciles: number;
  errors: number;
  applies: number;
  statusWrites: number;
  queued: number;
  busy: number;
  /** API requests of this process and their mean latency (ms). */
  apiRequests: number;
  apiMeanMs: number;
}

type Obj = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };
type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const MANAGED = `${LABEL_MANAGED_BY}=${LABEL_MANAGED_BY_VALUE}`;
/** Events of owned objects are coalesced over this window. */
const OWNED_EVENT_DELAY_MS = 200;

/** Kind of the owning server from an owned object's labels, and its work-queue key. */
function ownerKey(o: KubernetesObject): string | undefined {
  const labels = o.metadata?.labels ?? {};
  const owner = o.metadata?.annotations?.[ANNOTATION_OWNER];
  if (!owner) return undefined;
  if (labels[LABEL_MCPSERVER] !== undefined) return keyOf(MCPSERVER_KIND, owner, o.metadata?.namespace);
  if (labels[LABEL_CLUSTER_MCPSERVER] !== undefined) return keyOf(CLUSTER_MCPSERVER_KIND, owner);
  return undefined;
}

const objKey = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

export class Controller {
  private readonly queue: WorkQueue;
  private servers!: Cached<AnyMCPServer & Obj>;
  private clusterServers!: Cached<AnyMCPServer & Obj>;
  private configMaps!: Cached<V1ConfigMap & Obj>;
  /** Pods of the servers' Deployments: status reports what their containers really do. */
  private pods!: Cached<V1Pod & Obj>;
  private owned = new Map<OwnedKind, Cached<Obj>>();
  private informers: Array<Cached<Obj>> = [];
  /** Owner key → owned objects (kind/ns/name). */
  private ownerIndex = new Map<string, Set<string>>();
  /** `ConfigMap/ns/name` or `Secret/ns/name` → server keys referencing it. */
  private refIndex = new Map<string, Set<string>>();
  private refsOf = new Map<string, string[]>();
  /** Last applied hash per object, for when the cache lags behind our own apply. */
  private applied = new Map<string, string>();
  /** Last status written per server (with the server's uid): the cache may lag behind our writes. */
  private written = new Map<string, { uid: string; status: MCPServerStatus }>();
  /** Last warning event per server, so a persistent problem is reported once. */
  private lastEvent = new Map<string, string>();
  private restartTimers = new Set<NodeJS.Timeout>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private workers: Promise<void>[] = [];
  private stopped = false;
  readonly stats: ControllerStats = { reconciles: 0, errors: 0, applies: 0, statusWrites: 0, queued: 0, busy: 0, apiRequests: 0, apiMeanMs: 0 };

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.backoff);
  }

  private informer<T extends Obj>(kind: string, namespace: string | undefined, labelSelector?: string): Cached<T> {
    const path = collectionPath(kind, namespace);
    const inf = makeInformer<T>(this.o.kc, path, () => this.o.client.list<T>(kind, namespace, labelSelector) as never, labelSelector);
    let delay = 500;
    inf.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.o.log.warn({ kind, err: (err as Error)?.message ?? String(err), retryMs: delay }, 'watch failed; restarting');
      const t = setTimeout(() => {
        this.restartTimers.delete(t);
        if (!this.stopped) void inf.start().catch(() => {});
      }, delay);
      this.restartTimers.add(t);
      delay = Math.min(delay * 2, 16_000);
    });
    // The backoff resets once the watch delivers again (not on connect: a relist that fails right
    // after connecting would otherwise retry every 500 ms while the API server is down).
    const reset = () => {
      delay = 500;
    };
    inf.on('add', reset);
    inf.on('update', reset);
    inf.on('delete', reset);
    this.informers.push(inf as unknown as Cached<Obj>);
    return inf;
  }

  async start(): Promise<void> {
    const { watchNamespace } = this.o;
    this.servers = this.informer<AnyMCPServer & Obj>(MCPSERVER_KIND, watchNamespace);
    this.clusterServers = this.informer<AnyMCPServer & Obj>(CLUSTER_MCPSERVER_KIND, undefined);
    this.configMaps = this.informer<V1ConfigMap & Obj>('ConfigMap', undefined);
    for (const kind of OWNED_KINDS) {
      if (kind === 'ConfigMap') this.owned.set(kind, this.configMaps as unknown as Cached<Obj>);
      else this.owned.set(kind, this.informer<Obj>(kind, undefined, MANAGED));
    }

    // A server whose generation we have already observed changed only in status or metadata
    // (mostly our own status writes): low priority.
    const onServer = (kind: ServerKind) => (o: AnyMCPServer & Obj) => {
      const seen = o.status?.observedGeneration === o.metadata.generation && !o.metadata.deletionTimestamp;
      const key = keyOf(kind, o.metadata.name!, o.metadata.namespace);
      const w = this.written.get(key);
      if (w && statusEqual(w.status, o.status)) this.written.delete(key); // the cache caught up
      this.queue.add(key, seen ? 'low' : 'high');
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.servers.on(verb, onServer(MCPSERVER_KIND));
      this.clusterServers.on(verb, onServer(CLUSTER_MCPSERVER_KIND));
    }
    for (const [kind, inf] of this.owned) {
      const track = (deleted: boolean) => (o: Obj) => {
        if (o.metadata.labels?.[LABEL_MANAGED_BY] !== LABEL_MANAGED_BY_VALUE) return;
        const key = ownerKey(o);
        if (!key) return;
        const k = objKey(kind, o.metadata.namespace, o.metadata.name!);
        let set = this.ownerIndex.get(key);
        if (deleted) {
          set?.delete(k);
          this.applied.delete(k);
        } else {
          if (!set) this.ownerIndex.set(key, (set = new Set()));
          set.add(k);
        }
        // Low priority and coalesced: a Deployment's status moves in bursts of updates.
        this.queue.addAfter(key, OWNED_EVENT_DELAY_MS, 'low');
      };
      inf.on('add', track(false));
      inf.on('update', track(false));
      inf.on('delete', track(true));
    }
    this.pods = this.informer<V1Pod & Obj>('Pod', undefined, MANAGED);
    const onPod = (o: V1Pod & Obj) => {
      const key = ownerKey(o);
      if (key) this.queue.addAfter(key, OWNED_EVENT_DELAY_MS, 'low');
    };
    for (const verb of ['add', 'update', 'delete'] as const) this.pods.on(verb, onPod);
    const onConfigMap = (o: V1ConfigMap & Obj) => {
      for (const key of this.refIndex.get(objKey('ConfigMap', o.metadata.namespace, o.metadata.name!)) ?? []) this.queue.add(key, 'low');
    };
    for (const verb of ['add', 'update', 'delete'] as const) this.configMaps.on(verb, onConfigMap);

    // Owned kinds first so the first reconciles see what exists; servers last.
    const ownedInformers = [...new Set(this.owned.values()), this.pods as unknown as Cached<Obj>];
    await Promise.all(ownedInformers.map((i) => this.startInformer(i)));
    await Promise.all([this.startInformer(this.servers as unknown as Cached<Obj>), this.startInformer(this.clusterServers as unknown as Cached<Obj>)]);
    if (this.stopped) return;
    this.o.log.info({ mcpservers: this.servers.list().length, clustermcpservers: this.clusterServers.list().length }, 'caches synced');
    for (let i = 0; i < this.o.workers; i++) this.workers.push(this.work());
    this.enqueueAll();
    // Periodic resync re-applies everything: SSA of an unchanged object is a no-op on the server,
    // and it puts back fields someone else changed on an owned object (drift).
    this.resyncTimer = setInterval(() => this.enqueueAll(true), this.o.resyncMs);
    this.resyncTimer.unref?.();
  }

  /** start() with retries: the first list may fail (API server down, CRDs not yet installed). */
  private async startInformer(inf: Cached<Obj>): Promise<void> {
    let delay = 500;
    for (;;) {
      if (this.stopped) return;
      try {
        await inf.start();
        return;
      } catch (e) {
        this.o.log.warn({ err: (e as Error).message, retryMs: delay }, 'initial list failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 16_000);
      }
    }
  }

  /** Keys whose next reconcile applies every object even when its hash is unchanged (drift repair). */
  private forceApply = new Set<string>();

  private enqueueAll(force = false): void {
    if (force) {
      for (const s of this.servers.list()) this.forceApply.add(keyOf(MCPSERVER_KIND, s.metadata.name!, s.metadata.namespace));
      for (const s of this.clusterServers.list()) this.forceApply.add(keyOf(CLUSTER_MCPSERVER_KIND, s.metadata.name!));
    }
    for (const s of this.servers.list()) this.queue.add(keyOf(MCPSERVER_KIND, s.metadata.name!, s.metadata.namespace), 'low');
    for (const s of this.clusterServers.list()) this.queue.add(keyOf(CLUSTER_MCPSERVER_KIND, s.metadata.name!), 'low');
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const retry = await this.reconcile(key);
        if (retry) this.queue.addRateLimited(key);
        else this.queue.forget(key);
      } catch (e) {
        this.stats.errors++;
        if (!this.stopped) {
          const delay = this.queue.addRateLimited(key);
          this.o.log.warn({ key, err: (e as Error).message, retryMs: delay }, 'reconcile failed; will retry');
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const t of this.restartTimers) clearTimeout(t);
    this.queue.shutDown();
    await Promise.all(this.informers.map((i) => i.stop().catch(() => {})));
    await Promise.all(this.workers);
  }

  snapshot(): ControllerStats {
    const c = this.o.client;
    return { ...this.stats, queued: this.queue.length, busy: this.queue.busy, apiRequests: c.requests, apiMeanMs: c.requests ? c.latencyMs / c.requests : 0 };
  }

  // ------------------------------------------------------------------ reconcile

  private lookup(): Lookup {
    return {
      configMap: (ns, name) => this.configMaps.get(name, ns),
      // Secrets are not cached (no cluster-wide Secret watch); a missing one is retried with backoff.
      secret: (ns, name) => this.o.client.getOrUndefined<V1Secret & Obj>('Secret', name, ns),
    };
  }

  private setRefs(key: string, refs: string[]): void {
    for (const r of this.refsOf.get(key) ?? []) this.refIndex.get(r)?.delete(key);
    if (refs.length === 0) {
      this.refsOf.delete(key);
      return;
    }
    this.refsOf.set(key, refs);
    for (const r of refs) {
      let set = this.refIndex.get(r);
      if (!set) this.refIndex.set(r, (set = new Set()));
      set.add(key);
    }
  }

  /** Returns true when the key should be retried with backoff (a problem the user must fix). */
  async reconcile(key: string): Promise<boolean> {
    if (this.stopped) return false;
    this.stats.reconciles++;
    const { kind, namespace, name } = parseKey(key);
    const server = kind === MCPSERVER_KIND ? this.servers.get(name, namespace) : this.clusterServers.get(name);
    if (!server) {
      this.setRefs(key, []);
      this.written.delete(key);
      this.lastEvent.delete(key);
      if (kind === CLUSTER_MCPSERVER_KIND) await this.deleteOwned(key);
      return false;
    }
    const ref: ServerRef = { kind, name, namespace: kind === MCPSERVER_KIND ? namespace : this.o.namespace };
    const deleting = !!server.metadata.deletionTimestamp;
    const finalizers = server.metadata.finalizers ?? [];

    if (kind === CLUSTER_MCPSERVER_KIND) {
      if (deleting) {
        if (finalizers.includes(FINALIZER_CLUSTER_CLEANUP)) {
          await this.writeStatus(server, { ...(server.status ?? {}), phase: 'Terminating', message: 'deleting the objects in ' + this.o.namespace });
          await this.deleteOwned(key);
          await this.o.client.mergePatch(CLUSTER_MCPSERVER_KIND, name, undefined, {
            metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER_CLUSTER_CLEANUP), resourceVersion: server.metadata.resourceVersion },
          });
          this.o.log.info({ key }, 'cleaned up');
        }
        return false;
      }
      if (!finalizers.includes(FINALIZER_CLUSTER_CLEANUP)) {
        // resourceVersion makes this an optimistic update: no finalizer list is lost to a race.
        await this.o.client.mergePatch(CLUSTER_MCPSERVER_KIND, name, undefined, {
          metadata: { finalizers: [...finalizers, FINALIZER_CLUSTER_CLEANUP], resourceVersion: server.metadata.resourceVersion },
        });
        return false; // the update event brings us back
      }
    }

    const spec = Value.Default(MCPServerSpec, structuredClone(server.spec ?? {})) as Spec;
    const port = spec.port ?? 8080;
    const url = serviceURL(ref, port, this.o.clusterDomain);
    const generation = server.metadata.generation ?? 0;

    if (deleting) {
      await this.writeStatus(server, deriveStatus({ generation, deleting: true, problems: [], desiredReplicas: 0, url, previous: this.previousStatus(key, server), now: new Date() }), key);
      return false;
    }

    const resolved = await resolveSpec(ref, spec, this.lookup(), { clusterDomain: this.o.clusterDomain });
    this.setRefs(key, resolved.references.filter((r) => r.kind === 'ConfigMap').map((r) => objKey(r.kind, r.namespace, r.name)));
    let problems = resolved.problems;
    let reason = 'InvalidConfig';
    let deployment: V1Deployment | undefined;

    let desired: DesiredObject[] = [];
    if (!problems.length && resolved.agentConfig) {
      try {
        desired = buildAll({
          ref,
          spec,
          agentConfig: resolved.agentConfig,
          permissions: resolved.permissions,
          owner: kind === MCPSERVER_KIND ? { kind, name, uid: server.metadata.uid! } : undefined,
          injector: this.o.injector,
        });
      } catch (e) {
        if (!(e instanceof InjectionDenied)) throw e;
        problems = [e.message];
        reason = 'InjectionDenied';
      }
    }
    if (!problems.length) {
      const force = this.forceApply.delete(key);
      const rejected: string[] = [];
      const results = await Promise.all(
        desired.map(async (obj) => {
          try {
            return await this.applyIfChanged(obj, force);
          } catch (e) {
            if (!isPermanent(e)) throw e;
            rejected.push(`${obj.kind} ${obj.metadata!.name}: ${(e as Error).message}`);
            return undefined;
          }
        }),
      );
      deployment = results[desired.findIndex((d) => d.kind === 'Deployment')] as V1Deployment | undefined;
      if (rejected.length) {
        problems = rejected;
        reason = 'ApplyRejected';
      } else {
        await this.prune(key, desired);
      }
    }
    deployment ??= this.owned.get('Deployment')!.get(desired.find((d) => d.kind === 'Deployment')?.metadata?.name ?? '', ref.namespace) as V1Deployment | undefined;
    if (!deployment) {
      // Invalid config: report the Deployment that is still there (left running with its last good config).
      const existing = [...(this.ownerIndex.get(key) ?? [])].find((k) => k.startsWith('Deployment/'));
      if (existing) {
        const [, ns, n] = existing.split('/');
        deployment = this.owned.get('Deployment')!.get(n!, ns) as V1Deployment | undefined;
      }
    }

    const status = deriveStatus({
      generation,
      deleting: false,
      problems,
      problemReason: reason,
      deployment,
      pods: deployment ? this.podsOf(deployment) : [],
      desiredReplicas: spec.replicas ?? 1,
      url,
      previous: this.previousStatus(key, server),
      now: new Date(),
    });
    await this.writeStatus(server, status, key);

    if (problems.length) {
      const msg = problems.join('; ');
      if (this.lastEvent.get(key) !== msg) {
        this.lastEvent.set(key, msg);
        this.o.log.warn({ key, problems }, 'configuration problem');
        await this.event(server, 'Warning', reason, msg);
      }
      return true;
    }
    if (this.lastEvent.has(key)) {
      this.lastEvent.delete(key);
      await this.event(server, 'Normal', 'ConfigValid', 'configuration is valid again; objects applied');
    }
    return false;
  }

  private async applyIfChanged(obj: DesiredObject, force = false): Promise<KubernetesObject | undefined> {
    const hash = shortHash(JSON.stringify(obj), 16);
    obj.metadata!.annotations = { ...(obj.metadata!.annotations ?? {}), [ANNOTATION_APPLIED_HASH]: hash };
    const k = objKey(obj.kind!, obj.metadata!.namespace, obj.metadata!.name!);
    const cached = this.owned.get(obj.kind as OwnedKind)?.get(obj.metadata!.name!, obj.metadata!.namespace);
    if (!force && cached && (cached.metadata?.annotations?.[ANNOTATION_APPLIED_HASH] === hash || this.applied.get(k) === hash)) return cached;
    let result: KubernetesObject | undefined;
    if (!cached && !this.applied.has(k)) {
      // A new object: create it (half the API server cost of an apply, which matters when
      // hundreds of servers arrive at once). The creation is recorded as an Update by our field
      // manager; the first later apply converts that entry to Apply (ownObjectFields) so that
      // fields dropped from the desired object are removed as with any apply.
      try {
        result = await this.o.client.create(obj as KubernetesObject, FIELD_MANAGER);
      } catch (e) {
        if (!isConflict(e)) throw e; // 409: it exists after all (cache behind) → apply below
      }
    }
    if (!result) {
      await this.ownObjectFields(obj.kind!, cached ?? (await this.o.client.getOrUndefined<Obj>(obj.kind!, obj.metadata!.name!, obj.metadata!.namespace)));
      result = await this.o.client.apply(obj as KubernetesObject, FIELD_MANAGER);
    }
    this.stats.applies++;
    this.applied.set(k, hash);
    return result;
  }

  /**
   * Turns our `Update` managedFields entry (left by a create) into an `Apply` entry, the way
   * client-go's csaupgrade does for kubectl: afterwards the apply owns those fields and removes
   * the ones it no longer sends.
   */
  private async ownObjectFields(kind: string, live: KubernetesObject | undefined): Promise<void> {
    const mf = live?.metadata?.managedFields ?? [];
    const mine = (m: (typeof mf)[number]) => m.manager === FIELD_MANAGER && !m.subresource;
    const i = mf.findIndex((m) => mine(m) && m.operation === 'Update');
    if (i < 0 || mf.some((m) => mine(m) && m.operation === 'Apply')) return;
    try {
      await this.o.client.jsonPatch(kind, live!.metadata!.name!, live!.metadata!.namespace, [
        { op: 'test', path: `/metadata/managedFields/${i}/manager`, value: FIELD_MANAGER },
        { op: 'test', path: `/metadata/managedFields/${i}/operation`, value: 'Update' },
        { op: 'replace', path: `/metadata/managedFields/${i}/operation`, value: 'Apply' },
      ]);
    } catch (e) {
      // 422 from a failed test: the cache was stale and someone already changed the entries.
      if (!(e instanceof ApiError && (e.status === 422 || e.status === 409 || e.status === 404))) throw e;
    }
  }

  /** Deletes owned objects of `key` that are no longer desired (e.g. the SA once spec names one). */
  private async prune(key: string, desired: DesiredObject[]): Promise<void> {
    const want = new Set(desired.map((d) => objKey(d.kind!, d.metadata!.namespace, d.metadata!.name!)));
    const stale = [...(this.ownerIndex.get(key) ?? [])].filter((k) => !want.has(k));
    await Promise.all(
      stale.map(async (k) => {
        const [kind, ns, name] = k.split('/');
        this.o.log.info({ key, object: k }, 'deleting object no longer desired');
        await this.o.client.delete(kind!, name!, ns);
      }),
    );
  }

  /** ClusterMCPServer cleanup: every object labelled with its name in the configured namespace. */
  private async deleteOwned(key: string): Promise<void> {
    const { name } = parseKey(key);
    const objs = new Set(this.ownerIndex.get(key) ?? []);
    // Belt and braces: the label selector on the API, in case the cache missed something.
    for (const kind of OWNED_KINDS) {
      const list = await this.o.client.list<Obj>(kind, this.o.namespace, `${MANAGED},${LABEL_CLUSTER_MCPSERVER}`);
      for (const o of list.items) if (o.metadata.annotations?.[ANNOTATION_OWNER] === name) objs.add(objKey(kind, o.metadata.namespace, o.metadata.name!));
    }
    await Promise.all(
      [...objs].map(async (k) => {
        const [kind, ns, n] = k.split('/');
        await this.o.client.delete(kind!, n!, ns);
      }),
    );
  }

  /** What the status is now: our last write when the cache has not caught up with it yet. */
  private previousStatus(key: string, server: AnyMCPServer & Obj): MCPServerStatus | undefined {
    const w = this.written.get(key);
    return w && w.uid === server.metadata.uid ? w.status : server.status;
  }

  /** The Deployment's pods, by its selector, from the cache. */
  private podsOf(d: V1Deployment): V1Pod[] {
    const match = d.spec?.selector?.matchLabels ?? {};
    return this.pods
      .list(d.metadata?.namespace)
      .filter((p) => Object.entries(match).every(([k, v]) => p.metadata.labels?.[k] === v));
  }

  private async writeStatus(server: AnyMCPServer & Obj, status: MCPServerStatus, key?: string): Promise<void> {
    const prev = key ? this.previousStatus(key, server) : server.status;
    if (statusEqual(status, prev)) return;
    const kind = server.kind ?? (server.metadata.namespace ? MCPSERVER_KIND : CLUSTER_MCPSERVER_KIND);
    try {
      await this.o.client.mergePatch(kind, server.metadata.name!, server.metadata.namespace, { status: { ...status, conditions: status.conditions } }, 'status');
      this.stats.statusWrites++;
      if (key) this.written.set(key, { uid: server.metadata.uid ?? '', status });
    } catch (e) {
      if ((e as { status?: number }).status === 404) return; // deleted meanwhile
      throw e;
    }
  }

  private async event(server: AnyMCPServer & Obj, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const kind = server.kind ?? (server.metadata.namespace ? MCPSERVER_KIND : CLUSTER_MCPSERVER_KIND);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ns = server.metadata.namespace || 'default';
    try {
      await this.o.client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${server.metadata.name}.`, namespace: ns },
        involvedObject: {
          apiVersion: API_VERSION,
          kind,
          name: server.metadata.name,
          namespace: server.metadata.namespace,
          uid: server.metadata.uid,
          resourceVersion: server.metadata.resourceVersion,
        },
        reason,
        message: message.slice(0, 1024),
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'ome-mcp-reconciler' },
        reportingComponent: 'ome-mcp-reconciler',
        reportingInstance: this.o.identity,
      } as KubernetesObject);
    } catch (e) {
      this.o.log.debug({ err: (e as Error).message }, 'event not recorded');
    }
  }
}
