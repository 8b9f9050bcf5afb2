// Results of read-only, idempotent declared tools, served again to the same principal for the
// same arguments within the tool's TTL. Per principal: an endpoint may answer callers differently
// (their identity, their rights), so one caller's result is never another's. Bounded (oldest out).
const MAX_ENTRIES = 1000;

export class ResultCache {
  private readonly entries = new Map<string, { until: number; result: Record<string, unknown> }>();

  static key(principal: string, tool: string, args: unknown): string {
    return `${principal}\u0000${tool}\u0000${canonical(args)}`;
  }

  get(key: string): Record<string, unknown> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.until <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }

  set(key: string, result: Record<string, unknown>, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { until: Date.now() + ttlMs, result });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** JSON with object keys sorted: the same arguments in any order are one key. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}
