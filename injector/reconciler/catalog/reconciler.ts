// The reconciler of one declarative kind (MCPTool, MCPPrompt or MCPResource; one instance each):
// it resolves the object on its own for its Valid condition and reads the servers' verdicts
// (serving.ts) for Served, then writes the status subresource when it changed. Serving is the
// servers' job (servers.ts); when an object's validity changes, the servers that see it are asked
// to look again.
import type { CatalogItemStatus, CatalogKind } from '../../../api/v1beta1/catalog.js';
import type { References } from '../kit/refs.js';
import type { StatusWriter } from '../kit/status-writer.js';
import { objKey, type Cached, type Reconciler, type Result } from '../kit/types.js';
import type { Lookup } from '../resolve.js';
import { resolveItem, type CatalogItem } from './items.js';
import type { Serving } from './serving.js';
import { CONDITION_VALID, deriveItemStatus } from './status.js';

export interface CatalogItemDeps {
  refs: References;
  status: StatusWriter<CatalogItemStatus>;
  serving: Serving;
  lookup: Lookup;
  clusterDomain: string;
  /** Re-reconcile these servers (their catalog may change with this object's validity). */
  enqueueServers(keys: string[]): void;
}

export class CatalogItemReconciler implements Reconciler {
  constructor(
    readonly kind: CatalogKind,
    private readonly cache: Cached<CatalogItem>,
    private readonly d: CatalogItemDeps,
  ) {}

  keys(): string[] {
    return this.cache.list().map((o) => objKey(this.kind, o.metadata.namespace, o.metadata.name!));
  }

  async reconcile(key: string): Promise<Result> {
    const [, namespace, name] = key.split('/');
    const item = this.cache.get(name!, namespace);
    if (!item) {
      this.d.refs.set(key, []);
      this.d.status.forget(key);
      return {};
    }
    const resolved = await resolveItem(this.kind, item, this.d.lookup, this.d.clusterDomain);
    // Its ConfigMaps are watched (the controller requeues readers); Secrets are not, hence the requeue below.
    this.d.refs.set(key, resolved.references.filter((r) => r.kind === 'ConfigMap').map((r) => objKey(r.kind, r.namespace, r.name)));
    const previous = this.d.status.current(key, item);
    const status = deriveItemStatus({
      generation: item.metadata.generation ?? 0,
      problems: resolved.problems,
      verdicts: this.d.serving.of(key),
      previous,
      now: new Date(),
    });
    const wasValid = previous?.conditions?.find((c) => c.type === CONDITION_VALID)?.status;
    const isValid = status.conditions!.find((c) => c.type === CONDITION_VALID)!.status;
    await this.d.status.write(key, this.kind, item, status);
    if (wasValid !== isValid) this.d.enqueueServers(this.d.serving.of(key).map((v) => v.server));
    // A missing Secret or ConfigMap may appear: look again with backoff.
    return { requeue: resolved.problems.some((p) => p.reason !== 'InvalidSpec') };
  }
}
