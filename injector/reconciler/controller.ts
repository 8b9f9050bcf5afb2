// The controller for one leadership term: the kit's parts (informers, manager, owned objects,
// references, status writers, events) wired to the two server reconcilers, the MCPGateway one and the three of the
// declarative objects (catalog/). Which event enqueues which key lives here; what a reconcile
// does lives in servers.ts and the per-kind reconcilers.
import type { KubeConfig, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../api/annotations.js';
import { CLUSTER_MCPSERVER_KIND, MCPSERVER_KIND, type MCPServerStatus } from '../../api/v1beta1/mcpserver.js';
import type { InjectorSettings } from '../mutation/index.js';
import type { KubeClient } from './client.js';
import { ClusterMCPServerReconciler } from './clustermcpserver.js';
import { ANNOTATION_APPLIED_HASH, OWNED_KINDS } from './desired.js';
import { EventRecorder } from './kit/events.js';
import { Informers } from './kit/informers.js';
import { Manager } from './kit/manager.js';
import { OwnedObjects } from './kit/owned.js';
import { References } from './kit/refs.js';
import { StatusWriter } from './kit/status-writer.js';
import { objKey, type Cached, type Logger, type Obj } from './kit/types.js';
import { MCPServerReconciler } from './mcpserver.js';
import { keyOf, parseKey, type ServerKind } from './names.js';
import { MANAGED_SELECTOR, ownerKeyOf, serverLookup, type Server, type ServerDeps } from './servers.js';
import { statusEqual } from './status.js';
import { CATALOG_KINDS, type CatalogItemStatus, type CatalogKind } from '../../api/v1beta1/catalog.js';
import type { CatalogItem } from './catalog/items.js';
import { CatalogItemReconciler } from './catalog/reconciler.js';
import { matches, serverSelectors } from './catalog/selectors.js';
import { Serving } from './catalog/serving.js';
import { itemStatusEqual } from './catalog/status.js';
import { MCPGATEWAY_KIND, type MCPGatewayStatus } from '../../api/v1beta1/mcpgateway.js';
import { crossNamespace, MCPGatewayReconciler, type MCPGatewayObject } from './mcpgateway/reconciler.js';
import { grantsKey } from './mcpgateway/backends.js';
import type { AgentProbe } from './mcpgateway/agent-view.js';
import { Discovery } from './kit/discovery.js';
import { HTTPROUTE_KIND, REFERENCE_GRANT_KIND, type ReferenceGrant } from '../../api/gateway-api.js';

export type { Logger } from './kit/types.js';

const CATALOG_KIND_NAMES = Object.keys(CATALOG_KINDS) as CatalogKind[];

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
  secretPollMs: number;
  backoff: { baseDelayMs: number; maxDelayMs: number };
  identity: string;
  log: Logger;
  /** How an MCPGateway's agent /readyz is read (false: never). */
  agentProbe: AgentProbe | false;
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

/** Events of owned objects and pods are coalesced over this window. */
const OWNED_EVENT_DELAY_MS = 200;
const VERBS = ['add', 'update', 'delete'] as const;

export class Controller {
  private readonly informers: Informers;
  private readonly manager: Manager;
  private readonly owned: OwnedObjects;
  private readonly status: StatusWriter<MCPServerStatus>;
  private readonly itemStatus: StatusWriter<CatalogItemStatus>;
  private readonly mcpgatewayStatus: StatusWriter<MCPGatewayStatus>;
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.informers = new Informers(o.kc, o.client, o.log);
    this.manager = new Manager({ workers: o.workers, resyncMs: o.resyncMs, backoff: o.backoff, log: o.log });
    this.owned = new OwnedObjects({ client: o.client, fieldManager: FIELD_MANAGER, hashAnnotation: ANNOTATION_APPLIED_HASH, log: o.log });
    this.status = new StatusWriter<MCPServerStatus>(o.client, statusEqual);
    this.itemStatus = new StatusWriter<CatalogItemStatus>(o.client, itemStatusEqual);
    this.mcpgatewayStatus = new StatusWriter<MCPGatewayStatus>(o.client, statusEqual);
  }

  async start(): Promise<void> {
    const { o, informers, manager } = this;
    const servers = informers.watch<Server>(MCPSERVER_KIND, o.watchNamespace);
    const clusterServers = informers.watch<Server>(CLUSTER_MCPSERVER_KIND);
    const mcpgateways = informers.watch<MCPGatewayObject>(MCPGATEWAY_KIND, o.watchNamespace);
    // The Gateway API's kinds, where the cluster has them: started apart, never awaited (a missing
    // CRD keeps its informer retrying; what needs it says so in its status).
    const grants = informers.watch<ReferenceGrant & Obj>(REFERENCE_GRANT_KIND, o.watchNamespace);
    const configMaps = informers.watch<V1ConfigMap & Obj>('ConfigMap');
    // Pods of the servers' Deployments: status reports what their containers really do.
    const pods = informers.watch<V1Pod & Obj>('Pod', undefined, MANAGED_SELECTOR);
    const refs = new References();
    // The declarative objects, in the watched namespace (a ClusterMCPServer's live in o.namespace).
    const items = Object.fromEntries(CATALOG_KIND_NAMES.map((k) => [k, informers.watch<CatalogItem>(k, o.watchNamespace)])) as Record<CatalogKind, Cached<CatalogItem>>;
    const serving = new Serving();
    const enqueueAll = (keys: string[]) => {
      for (const k of keys) manager.enqueue(k, 'low');
    };
    const lookup = serverLookup(o.client, configMaps);
    const deps: ServerDeps = {
      client: o.client,
      owned: this.owned,
      refs,
      status: this.status,
      events: new EventRecorder({ client: o.client, component: 'ome-mcp-reconciler', identity: o.identity, log: o.log }),
      pods,
      injector: o.injector,
      clusterDomain: o.clusterDomain,
      log: o.log,
      lookup,
      catalog: { list: (kind, ns) => items[kind].list(ns), serving, enqueueItems: enqueueAll, secretPollMs: o.secretPollMs },
    };
    manager.register(new MCPServerReconciler(servers, deps));
    manager.register(new ClusterMCPServerReconciler(clusterServers, deps, o.namespace));
    const { status: _s, catalog: _c, ...shared } = deps;
    const discovery = new Discovery(o.client);
    manager.register(new MCPGatewayReconciler(mcpgateways, { ...shared, status: this.mcpgatewayStatus, servers, clusterServers, clusterNamespace: o.namespace, grants, discovery, agentProbe: o.agentProbe }));
    // The ReferenceGrant watch failed (its CRD removed, say): the MCPGateways that refer across
    // namespaces look again, with what discovery says now.
    grants.on('error', () => {
      discovery.forget(REFERENCE_GRANT_KIND);
      for (const g of mcpgateways.list()) {
        if (crossNamespace(g.spec ?? {}, g.metadata.namespace ?? '')) manager.enqueue(keyOf(MCPGATEWAY_KIND, g.metadata.name!, g.metadata.namespace), 'low');
      }
    });
    const itemDeps = { refs, status: this.itemStatus, serving, lookup, clusterDomain: o.clusterDomain, enqueueServers: enqueueAll };
    for (const kind of CATALOG_KIND_NAMES) manager.register(new CatalogItemReconciler(kind, items[kind], itemDeps));

    // A declared object changed: the object itself, and every server that selects it now or had a
    // verdict on it before (its labels may have moved it out of a selector).
    // Our own status writes change neither generation nor labels: then the servers have nothing to look at.
    const lastSeen = new Map<string, string>();
    const onItem = (kind: CatalogKind, deleted: boolean) => (item: CatalogItem) => {
      const key = objKey(kind, item.metadata.namespace, item.metadata.name!);
      this.itemStatus.observed(key, item);
      const fingerprint = JSON.stringify([item.metadata.generation, item.metadata.labels ?? {}]);
      const statusOnly = !deleted && lastSeen.get(key) === fingerprint;
      if (deleted) lastSeen.delete(key);
      else lastSeen.set(key, fingerprint);
      manager.enqueue(key, statusOnly ? 'low' : 'high');
      if (statusOnly) return;
      const ns = item.metadata.namespace ?? '';
      const selecting = [
        ...servers.list(ns).map((s) => ({ s, key: keyOf(MCPSERVER_KIND, s.metadata.name!, ns) })),
        ...(ns === o.namespace ? clusterServers.list().map((s) => ({ s, key: keyOf(CLUSTER_MCPSERVER_KIND, s.metadata.name!) })) : []),
      ].filter(({ s }) => {
        const selector = serverSelectors(s.spec ?? {})[kind];
        return selector !== undefined && matches(selector, item.metadata.labels);
      });
      for (const k of new Set([...selecting.map((x) => x.key), ...serving.of(key).map((v) => v.server)])) manager.enqueue(k);
    };
    for (const kind of CATALOG_KIND_NAMES) for (const verb of VERBS) items[kind].on(verb, onItem(kind, verb === 'delete'));

    // A server whose generation we have already observed changed only in status or metadata
    // (mostly our own status writes): low priority.
    const onServer = (kind: ServerKind) => (s: Server) => {
      const key = keyOf(kind, s.metadata.name!, s.metadata.namespace);
      this.status.observed(key, s);
      const seen = s.status?.observedGeneration === s.metadata.generation && !s.metadata.deletionTimestamp;
      manager.enqueue(key, seen ? 'low' : 'high');
    };
    for (const verb of VERBS) {
      servers.on(verb, onServer(MCPSERVER_KIND));
      clusterServers.on(verb, onServer(CLUSTER_MCPSERVER_KIND));
    }

    // An MCPGateway: as a server (its own status writes low). An MCPServer's change (added,
    // relabelled, Ready or not, deleted): the MCPGateways that select it or had it as a backend.
    for (const verb of VERBS) {
      mcpgateways.on(verb, (g) => {
        const key = keyOf(MCPGATEWAY_KIND, g.metadata.name!, g.metadata.namespace);
        this.mcpgatewayStatus.observed(key, g);
        manager.enqueue(key, g.status?.observedGeneration === g.metadata.generation ? 'low' : 'high');
      });
      servers.on(verb, (s) => {
        const ns = s.metadata.namespace ?? '';
        const selecting = mcpgateways.list(ns).filter((g) => g.spec?.serverSelector && matches(g.spec.serverSelector, s.metadata.labels));
        const keys = [...selecting.map((g) => keyOf(MCPGATEWAY_KIND, g.metadata.name!, ns)), ...refs.readersOf(objKey(MCPSERVER_KIND, ns, s.metadata.name!))];
        for (const k of new Set(keys)) manager.enqueue(k, 'low');
      });
      // A ClusterMCPServer one names; a ReferenceGrant of a namespace one refers into (added, changed, removed).
      clusterServers.on(verb, (s) => {
        for (const k of refs.readersOf(objKey(CLUSTER_MCPSERVER_KIND, undefined, s.metadata.name!))) manager.enqueue(k, 'low');
      });
      grants.on(verb, (g) => {
        for (const k of refs.readersOf(grantsKey(g.metadata.namespace ?? ''))) manager.enqueue(k);
      });
    }
    // Owned objects and pods: low priority and coalesced (a Deployment's status moves in bursts).
    // Their informers are cluster-wide (a ClusterMCPServer's objects live in o.namespace): with a
    // watched namespace, an owner elsewhere is not ours and its objects' events reconcile nothing.
    const ours = (key: string) => {
      if (o.watchNamespace === undefined) return true;
      const { kind, namespace } = parseKey(key);
      return kind === CLUSTER_MCPSERVER_KIND || namespace === o.watchNamespace;
    };
    const onOwned = (key: string) => {
      if (ours(key)) manager.enqueueAfter(key, OWNED_EVENT_DELAY_MS, 'low');
    };
    const ownedInformers = new Set<Cached<Obj>>([pods as unknown as Cached<Obj>]);
    for (const kind of OWNED_KINDS) {
      const inf = kind === 'ConfigMap' ? (configMaps as unknown as Cached<Obj>) : informers.watch<Obj>(kind, undefined, MANAGED_SELECTOR);
      this.owned.track(kind, inf, ownerKeyOf, onOwned);
      ownedInformers.add(inf);
    }
    // Exposure (exposure.ts): Ingresses always; HTTPRoutes where the Gateway API is served (started
    // apart, like the ReferenceGrants; their status changes bring the owner back too).
    const ingresses = informers.watch<Obj>('Ingress', undefined, MANAGED_SELECTOR);
    this.owned.track('Ingress', ingresses, ownerKeyOf, onOwned);
    ownedInformers.add(ingresses);
    const routes = informers.watch<Obj>(HTTPROUTE_KIND, undefined, MANAGED_SELECTOR);
    this.owned.track(HTTPROUTE_KIND, routes, ownerKeyOf, onOwned);
    routes.on('error', () => {
      discovery.forget(HTTPROUTE_KIND);
      for (const g of mcpgateways.list()) if (g.spec?.httpRoute) manager.enqueue(keyOf(MCPGATEWAY_KIND, g.metadata.name!, g.metadata.namespace), 'low');
    });
    for (const verb of VERBS) {
      pods.on(verb, (p) => {
        const key = ownerKeyOf(p);
        if (key) onOwned(key);
      });
      configMaps.on(verb, (c) => {
        for (const key of refs.readersOf(objKey('ConfigMap', c.metadata.namespace, c.metadata.name!))) manager.enqueue(key, 'low');
      });
    }

    // Owned kinds first so the first reconciles see what exists; servers last.
    await informers.start([...ownedInformers, ...(Object.values(items) as unknown as Cached<Obj>[])]);
    await informers.start([servers, clusterServers, mcpgateways] as unknown as Cached<Obj>[]);
    void informers.start([grants, routes] as unknown as Cached<Obj>[]);
    if (this.stopped) return;
    o.log.info({ mcpservers: servers.list().length, clustermcpservers: clusterServers.list().length }, 'caches synced');
    manager.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.manager.stop();
    await this.informers.stop();
  }

  snapshot(): ControllerStats {
    const c = this.o.client;
    return {
      reconciles: this.manager.reconciles,
      errors: this.manager.errors,
      applies: this.owned.applies,
      statusWrites: this.status.writes,
      queued: this.manager.queued,
      busy: this.manager.busy,
      apiRequests: c.requests,
      apiMeanMs: c.requests ? c.latencyMs / c.requests : 0,
    };
  }
}
