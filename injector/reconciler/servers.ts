// What MCPServer and ClusterMCPServer reconcile alike: resolve the spec, build the desired objects,
// apply them, prune the rest, and write a status derived from the Deployment and its pods.
// mcpserver.ts and clustermcpserver.ts are the per-kind reconcilers built on it.
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Secret } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import { LABEL_MANAGED_BY, LABEL_MANAGED_BY_VALUE } from '../../api/annotations.js';
import {
  API_VERSION,
  MCPServerSpec,
  type AnyMCPServer,
  type MCPServerSpec as Spec,
  type MCPServerStatus,
} from '../../api/v1beta1/mcpserver.js';
import type { InjectorSettings } from '../mutation/index.js';
import { isPermanent, type KubeClient } from './client.js';
import { ANNOTATION_OWNER, buildAll, InjectionDenied, type DesiredObject } from './desired.js';
import type { EventRecorder } from './kit/events.js';
import type { OwnedObjects } from './kit/owned.js';
import type { References } from './kit/refs.js';
import type { StatusWriter } from './kit/status-writer.js';
import { objKey, type Cached, type Logger, type Obj, type Reconciler, type Result } from './kit/types.js';
import { keyOf, ownerKindOf, selectorLabels, serviceURL, type Owner, type ServerKind, type ServerRef } from './names.js';
import { nudgePods } from './pod-nudge.js';
import { ensureStateKey } from './state-key.js';
import { resolve as resolveSpec, type Lookup } from './resolve.js';
import { readApiServer } from './api-server.js';
import { deriveStatus } from './status.js';
import { resolveServerCatalog, type ListItems } from './catalog/resolve.js';
import { ensureCatalogSecret, type CatalogSecret } from './catalog/secret.js';
import { hasCatalog, serverSelectors } from './catalog/selectors.js';
import type { Serving } from './catalog/serving.js';

export type Server = AnyMCPServer & Obj;

/** What the server reconcilers share: the kit's parts and the caches they read. */
export interface ServerDeps {
  client: KubeClient;
  owned: OwnedObjects;
  refs: References;
  status: StatusWriter<MCPServerStatus>;
  events: EventRecorder;
  pods: Cached<V1Pod & Obj>;
  injector: InjectorSettings;
  clusterDomain: string;
  log: Logger;
  /** ConfigMaps (cached) and Secrets (read by name) the specs and declared objects refer to. */
  lookup: Lookup;
  /** The declarative objects (their informer caches), who serves them, and their reconcilers' queue. */
  catalog: {
    list: ListItems;
    serving: Serving;
    enqueueItems(keys: string[]): void;
    /** How often a server with catalog Secret keys re-reads them (Secrets are not watched). */
    secretPollMs: number;
  };
}

export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${LABEL_MANAGED_BY_VALUE}`;

/** The key of the server that owns `o` (one of our generated objects or their pods), if any. */
export function ownerKeyOf(o: KubernetesObject): string | undefined {
  const labels = o.metadata?.labels ?? {};
  const owner = o.metadata?.annotations?.[ANNOTATION_OWNER];
  if (!owner || labels[LABEL_MANAGED_BY] !== LABEL_MANAGED_BY_VALUE) return undefined;
  const kind = ownerKindOf(labels);
  return kind && keyOf(kind, owner, o.metadata?.namespace);
}

/** The base of both server reconcilers: keys from the cache, forced re-applies on resync. */
export abstract class ServerReconciler implements Reconciler {
  /** Keys whose next reconcile applies every object even when its hash is unchanged (drift repair). */
  private readonly forced = new Set<string>();

  constructor(
    readonly kind: ServerKind,
    protected readonly cache: Cached<Server>,
    protected readonly d: ServerDeps,
  ) {}

  keys(): string[] {
    return this.cache.list().map((s) => keyOf(this.kind, s.metadata.name!, s.metadata.namespace));
  }

  /** SSA of an unchanged object is a no-op on the server, and it puts back fields someone else changed. */
  resync(): void {
    for (const k of this.keys()) this.forced.add(k);
  }

  abstract reconcile(key: string): Promise<Result>;

  /** The server is gone: forget what the kit remembers of it. */
  protected forget(key: string): void {
    this.d.refs.set(key, []);
    this.d.catalog.enqueueItems(this.d.catalog.serving.set(key, new Map()));
    this.d.status.forget(key);
    this.d.events.forget(key);
  }

  /** Writes status through the kit (events and status need the kind, which cached items may lack). */
  protected writeStatus(key: string, server: Server, status: MCPServerStatus): Promise<void> {
    return this.d.status.write(key, this.kind, server, status);
  }

  /** Resolve, build, apply, prune, status, events: one pass for a server that exists. */
  protected async reconcileServer(key: string, server: Server, ref: ServerRef, owner?: Owner): Promise<Result> {
    const d = this.d;
    const spec = Value.Default(MCPServerSpec, structuredClone(server.spec ?? {})) as Spec;
    const url = serviceURL(ref, spec, d.clusterDomain);
    const generation = server.metadata.generation ?? 0;
    const now = new Date();

    if (server.metadata.deletionTimestamp) {
      const status = deriveStatus({ generation, deleting: true, problems: [], desiredReplicas: 0, url, previous: d.status.current(key, server), now });
      await this.writeStatus(key, server, status);
      return {};
    }

    // The declared objects it selects (none without a selector): their problems are theirs, on their status.
    const selectors = serverSelectors(spec);
    // One read of each Secret per pass, however many objects and headers name it.
    const look = onceEach(d.lookup);
    const catalog = hasCatalog(selectors) ? await resolveServerCatalog(selectors, ref.namespace, d.catalog.list, look, d.clusterDomain) : undefined;
    const resolved = await resolveSpec(ref, spec, look, { clusterDomain: d.clusterDomain, catalog: catalog?.catalog });
    const references = [...resolved.references, ...(catalog?.references ?? [])];
    d.refs.set(key, [...new Set(references.filter((r) => r.kind === 'ConfigMap').map((r) => objKey(r.kind, r.namespace, r.name)))]);
    let catalogSecret: CatalogSecret | undefined;
    const outcome = await buildAndApply(d, key, resolved.problems, !resolved.problems.length && this.forced.delete(key), async () => {
      const stateKey = await ensureStateKey(d.client, ref, owner, now);
      // Before the ConfigMap: a new header's file is there when the agent reloads the config naming it.
      catalogSecret = catalog ? await ensureCatalogSecret(d.client, ref, owner, catalog.secrets, look) : undefined;
      return buildAll({ ref, spec, agentConfig: resolved.agentConfig!, permissions: resolved.permissions, apiServer: resolved.apiServer, owner, stateKey, injector: d.injector, catalogSecret: catalogSecret?.name });
    });
    const { problems, reason } = outcome;
    let { deployment } = outcome;
    // Applied: the objects' Served conditions may follow.
    if (outcome.applied) d.catalog.enqueueItems(d.catalog.serving.set(key, catalog?.verdicts ?? new Map()));
    // Invalid config: report the Deployment that is still there (left running with its last good config).
    deployment ??= currentDeployment(d, key);
    const pods = deployment ? podsOf(d, deployment) : [];
    // The catalog Secret's version too: a rotated value is then delivered as fast as a config change.
    if (!problems.length && resolved.agentConfig) await nudgePods(d.client, pods, resolved.agentConfig, d.log, catalogSecret?.version);

    const status = deriveStatus({
      generation,
      deleting: false,
      problems,
      problemReason: reason,
      deployment,
      pods,
      desiredReplicas: spec.replicas ?? 1,
      url,
      selector: Object.entries(selectorLabels(ref)).map(([k, v]) => `${k}=${v}`).join(','),
      previous: d.status.current(key, server),
      now,
    });
    await this.writeStatus(key, server, status);

    const result = await reportConfig(d, key, { ...server, apiVersion: API_VERSION, kind: this.kind }, problems, reason);
    return result.requeue || !catalogSecret ? result : { requeueAfterMs: d.catalog.secretPollMs };
  }
}

/**
 * With no problems yet: builds the owner's objects and applies them. What comes of it for the
 * status: the Deployment as applied, the problems (the pod mutation's denial, objects the API
 * server refused) and their reason, and whether everything was applied.
 */
export async function buildAndApply(
  d: Pick<ServerDeps, 'owned'>,
  key: string,
  problems: string[],
  force: boolean,
  build: () => Promise<DesiredObject[]>,
): Promise<{ deployment?: V1Deployment; problems: string[]; reason: string; applied: boolean }> {
  if (problems.length) return { problems, reason: 'InvalidConfig', applied: false };
  let desired: DesiredObject[];
  try {
    desired = await build();
  } catch (e) {
    if (!(e instanceof InjectionDenied)) throw e;
    return { problems: [e.message], reason: 'InjectionDenied', applied: false };
  }
  const { deployment, rejected } = await applyDesired(d, key, desired, force);
  return rejected.length ? { deployment, problems: rejected, reason: 'ApplyRejected', applied: false } : { deployment, problems: [], reason: 'InvalidConfig', applied: true };
}

/**
 * Applies `desired` (`force`: even unchanged objects) and, when all were accepted, prunes what the
 * owner no longer wants. An object the API server refuses (4xx) is a problem for the status, not a retry.
 */
export async function applyDesired(d: Pick<ServerDeps, 'owned'>, key: string, desired: DesiredObject[], force: boolean): Promise<{ deployment?: V1Deployment; rejected: string[] }> {
  const rejected: string[] = [];
  const results = await Promise.all(
    desired.map(async (obj) => {
      try {
        return await d.owned.apply(obj, force);
      } catch (e) {
        if (!isPermanent(e)) throw e;
        rejected.push(`${obj.kind} ${obj.metadata!.name}: ${(e as Error).message}`);
        return undefined;
      }
    }),
  );
  if (!rejected.length) await d.owned.prune(key, desired);
  return { deployment: results[desired.findIndex((o) => o.kind === 'Deployment')] as V1Deployment | undefined, rejected };
}

/** Problems: a Warning event (once per distinct text) and a retry; none: a Normal event when they were resolved. */
export async function reportConfig(d: Pick<ServerDeps, 'events' | 'log'>, key: string, target: Obj, problems: string[], reason: string): Promise<Result> {
  if (problems.length) {
    if (await d.events.warnOnce(key, target, reason, problems.join('; '))) d.log.warn({ key, problems }, 'configuration problem');
    return { requeue: true };
  }
  await d.events.resolved(key, target, 'ConfigValid', 'configuration is valid again; objects applied');
  return {};
}

/** ConfigMaps from the cache; Secrets are not cached (no cluster-wide Secret watch): a missing one is retried with backoff. */
export function serverLookup(client: KubeClient, configMaps: Cached<V1ConfigMap & Obj>): Lookup {
  return {
    configMap: (ns, name) => configMaps.get(name, ns),
    secret: (ns, name) => client.getOrUndefined<V1Secret & Obj>('Secret', name, ns),
    apiServer: () => readApiServer(client),
  };
}

/** `lookup` with each Secret fetched once (ConfigMaps come from the cache anyway). */
function onceEach(lookup: Lookup): Lookup {
  const secrets = new Map<string, ReturnType<Lookup['secret']>>();
  return {
    ...lookup,
    secret(ns, name) {
      const k = `${ns}/${name}`;
      if (!secrets.has(k)) secrets.set(k, lookup.secret(ns, name));
      return secrets.get(k)!;
    },
  };
}

export function currentDeployment(d: Pick<ServerDeps, 'owned'>, key: string): V1Deployment | undefined {
  const existing = d.owned.of(key).find((k) => k.startsWith('Deployment/'));
  if (!existing) return undefined;
  const [, ns, name] = existing.split('/');
  return d.owned.get<V1Deployment>('Deployment', name!, ns);
}

/** The Deployment's pods, by its selector, from the cache. */
export function podsOf(d: Pick<ServerDeps, 'pods'>, deployment: V1Deployment): V1Pod[] {
  const match = deployment.spec?.selector?.matchLabels ?? {};
  return d.pods.list(deployment.metadata?.namespace).filter((p) => Object.entries(match).every(([k, v]) => p.metadata.labels?.[k] === v));
}
