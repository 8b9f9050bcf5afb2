// Whether the API server serves a kind whose CRDs the cluster may lack (the Gateway API's
// ReferenceGrant and HTTPRoute): the group/version's discovery document, remembered for a few
// seconds. A kind that is not served is a status problem of what needs it, never a crash.
import { groupVersionPath, isNotFound, pluralOf, type KubeClient } from '../client.js';

export class Discovery {
  private readonly seen = new Map<string, { at: number; resources: Set<string> | undefined }>();

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 10_000,
  ) {}

  /** Forget what is known of `kind`'s group/version (its informer failed: the CRD may be gone). */
  forget(kind: string): void {
    this.seen.delete(groupVersionPath(kind));
  }

  /** Is `kind` served? (A 404 for its group/version: no; other errors are thrown, to be retried.) */
  async served(kind: string): Promise<boolean> {
    const path = groupVersionPath(kind);
    let entry = this.seen.get(path);
    if (!entry || Date.now() - entry.at > this.ttlMs) {
      let resources: Set<string> | undefined;
      try {
        const list = await this.client.request<{ resources?: { name: string }[] }>('GET', path);
        resources = new Set((list.resources ?? []).map((r) => r.name));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      entry = { at: Date.now(), resources };
      this.seen.set(path, entry);
    }
    return entry.resources?.has(pluralOf(kind)) ?? false;
  }
}
