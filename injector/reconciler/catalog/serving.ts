// Who serves which declarative object: each server's last verdicts (catalog/resolve.ts), kept
// in memory by the server reconciles and read by the objects' reconcilers for their Served
// condition. It also answers "which servers selected this object before" when one changes (its
// labels may no longer match, so the selectors alone cannot tell).
import type { Verdict } from './resolve.js';

export class Serving {
  /** Server key → object key → verdict. */
  private readonly byServer = new Map<string, Map<string, Verdict>>();
  /** Object key → server keys with a verdict on it. */
  private readonly byItem = new Map<string, Set<string>>();

  /** Replaces a server's verdicts (none: forgets it); returns the object keys whose verdict changed. */
  set(server: string, verdicts: Map<string, Verdict>): string[] {
    const before = this.byServer.get(server) ?? new Map<string, Verdict>();
    const changed = new Set<string>();
    for (const [item, v] of before) if (JSON.stringify(verdicts.get(item)) !== JSON.stringify(v)) changed.add(item);
    for (const [item, v] of verdicts) if (JSON.stringify(before.get(item)) !== JSON.stringify(v)) changed.add(item);
    for (const item of before.keys()) this.byItem.get(item)?.delete(server);
    if (verdicts.size) this.byServer.set(server, new Map(verdicts));
    else this.byServer.delete(server);
    for (const item of verdicts.keys()) {
      let s = this.byItem.get(item);
      if (!s) this.byItem.set(item, (s = new Set()));
      s.add(server);
    }
    for (const item of changed) if (!this.byItem.get(item)?.size) this.byItem.delete(item);
    return [...changed];
  }

  /** The servers with a verdict on `item`, and what each decided (sorted by server key). */
  of(item: string): { server: string; verdict: Verdict }[] {
    return [...(this.byItem.get(item) ?? [])].sort().map((server) => ({ server, verdict: this.byServer.get(server)!.get(item)! }));
  }
}
