// The ClusterMCPServer reconciler: cluster-scoped, its objects live in the injector's namespace
// (an owner reference cannot cross scopes), so a finalizer deletes them, found by label.
import { FINALIZER_CLUSTER_CLEANUP, LABEL_CLUSTER_MCPSERVER } from '../../api/annotations.js';
import { CLUSTER_MCPSERVER_KIND } from '../../api/v1beta1/mcpserver.js';
import { ANNOTATION_OWNER, OWNED_KINDS } from './desired.js';
import { stateKeySecretName } from './state-key.js';
import { catalogSecretName } from './catalog/secret.js';
import { objKey, type Cached, type Obj, type Result } from './kit/types.js';
import { parseKey } from './names.js';
import { MANAGED_SELECTOR, ServerReconciler, type Server, type ServerDeps } from './servers.js';

export class ClusterMCPServerReconciler extends ServerReconciler {
  constructor(
    cache: Cached<Server>,
    d: ServerDeps,
    /** Where every ClusterMCPServer's objects live. */
    private readonly namespace: string,
  ) {
    super(CLUSTER_MCPSERVER_KIND, cache, d);
  }

  async reconcile(key: string): Promise<Result> {
    const { name } = parseKey(key);
    const server = this.cache.get(name);
    if (!server) {
      this.forget(key);
      await this.deleteOwned(key, name);
      return {};
    }
    const finalizers = server.metadata.finalizers ?? [];
    if (server.metadata.deletionTimestamp) {
      if (!finalizers.includes(FINALIZER_CLUSTER_CLEANUP)) return {};
      await this.writeStatus(key, server, { ...(server.status ?? {}), phase: 'Terminating', message: `deleting the objects in ${this.namespace}` });
      await this.deleteOwned(key, name);
      await this.removeFinalizer(server, finalizers);
      this.d.log.info({ key }, 'cleaned up');
      return {};
    }
    if (!finalizers.includes(FINALIZER_CLUSTER_CLEANUP)) {
      // resourceVersion makes this an optimistic update: no finalizer list is lost to a race.
      await this.d.client.mergePatch(CLUSTER_MCPSERVER_KIND, name, undefined, {
        metadata: { finalizers: [...finalizers, FINALIZER_CLUSTER_CLEANUP], resourceVersion: server.metadata.resourceVersion },
      });
      return {}; // the update event brings us back
    }
    return this.reconcileServer(key, server, { kind: CLUSTER_MCPSERVER_KIND, name, namespace: this.namespace });
  }

  private removeFinalizer(server: Server, finalizers: string[]): Promise<unknown> {
    return this.d.client.mergePatch(CLUSTER_MCPSERVER_KIND, server.metadata.name!, undefined, {
      metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER_CLUSTER_CLEANUP), resourceVersion: server.metadata.resourceVersion },
    });
  }

  /** Every object labelled with the server's name in the namespace: the cache's, and the API's in case the cache missed one. */
  private async deleteOwned(key: string, name: string): Promise<void> {
    const objs = new Set(this.d.owned.of(key));
    for (const kind of OWNED_KINDS) {
      const list = await this.d.client.list<Obj>(kind, this.namespace, `${MANAGED_SELECTOR},${LABEL_CLUSTER_MCPSERVER}`);
      for (const o of list.items) if (o.metadata.annotations?.[ANNOTATION_OWNER] === name) objs.add(objKey(kind, o.metadata.namespace, o.metadata.name!));
    }
    const ref = { kind: CLUSTER_MCPSERVER_KIND, name, namespace: this.namespace } as const;
    for (const secret of [stateKeySecretName(ref), catalogSecretName(ref)]) objs.add(objKey('Secret', this.namespace, secret));
    await Promise.all(
      [...objs].map(async (k) => {
        const [kind, ns, n] = k.split('/');
        await this.d.client.delete(kind!, n!, ns);
      }),
    );
  }
}
