// Which owners read which objects (a server's ConfigMaps): a change to the object requeues them.
export class References {
  /** Object key → owner keys that read it. */
  private readonly readers = new Map<string, Set<string>>();
  private readonly refsOf = new Map<string, string[]>();

  /** Replaces what `owner` reads (an empty list forgets it). */
  set(owner: string, refs: string[]): void {
    for (const r of this.refsOf.get(owner) ?? []) this.readers.get(r)?.delete(owner);
    if (refs.length === 0) {
      this.refsOf.delete(owner);
      return;
    }
    this.refsOf.set(owner, refs);
    for (const r of refs) {
      let set = this.readers.get(r);
      if (!set) this.readers.set(r, (set = new Set()));
      set.add(owner);
    }
  }

  readersOf(ref: string): string[] {
    return [...(this.readers.get(ref) ?? [])];
  }
}
