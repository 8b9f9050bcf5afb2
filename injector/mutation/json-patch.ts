/**
 * RFC 6902 JSON Patch: computed as the difference between two JSON documents, so that the patch a
 * webhook returns is by construction what the pure mutation produced (and empty when nothing
 * changed). Arrays are compared by common prefix and suffix, so inserting containers at the front
 * of `initContainers` becomes two `add` operations rather than a replace of the whole list.
 */
export type JsonPatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 6901: `~` → `~0`, `/` → `~1` (annotation keys contain `/`). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/**
 * The operations that turn `from` into `to` (both plain JSON; `undefined` members count as
 * absent). Values in the operations are shared with `to`, not copied: serialize or clone the
 * patch before changing `to`.
 */
export function diff(from: unknown, to: unknown, path = ''): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  walk(from, to, path, ops);
  return ops;
}

function walk(a: unknown, b: unknown, path: string, ops: JsonPatchOp[]): void {
  if (deepEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (a[key] !== undefined && b[key] === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(key)}` });
    }
    for (const key of Object.keys(b)) {
      if (b[key] === undefined) continue;
      const child = `${path}/${escapePointer(key)}`;
      if (a[key] === undefined) ops.push({ op: 'add', path: child, value: b[key] });
      else walk(a[key], b[key], child, ops);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    let prefix = 0;
    while (prefix < a.length && prefix < b.length && deepEqual(a[prefix], b[prefix])) prefix++;
    let suffix = 0;
    while (
      suffix < a.length - prefix &&
      suffix < b.length - prefix &&
      deepEqual(a[a.length - 1 - suffix], b[b.length - 1 - suffix])
    ) {
      suffix++;
    }
    const midA = a.length - prefix - suffix;
    const midB = b.length - prefix - suffix;
    const common = Math.min(midA, midB);
    for (let i = 0; i < common; i++) walk(a[prefix + i], b[prefix + i], `${path}/${prefix + i}`, ops);
    // Extra old elements: remove at the same index repeatedly (each removal shifts the rest left).
    for (let i = common; i < midA; i++) ops.push({ op: 'remove', path: `${path}/${prefix + common}` });
    for (let i = common; i < midB; i++) ops.push({ op: 'add', path: `${path}/${prefix + i}`, value: b[prefix + i] });
    return;
  }
  ops.push(a === undefined ? { op: 'add', path, value: b } : { op: 'replace', path, value: b });
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Applies add/remove/replace operations to a copy of `doc` (enough for tests, the pod runner and
 * the reconciler; `move`/`copy`/`test` are not produced by `diff`). Throws on a path that does not
 * resolve, like a strict RFC 6902 implementation.
 */
export function applyPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let root = clone(doc) as unknown as Json;
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = clone(op.value) as Json;
      continue;
    }
    const tokens = op.path.split('/').slice(1).map(unescapePointer);
    const last = tokens.pop()!;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : isObject(parent) ? parent[t] : undefined;
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`bad array index in ${op.path}`);
      if (op.op === 'add') parent.splice(index, 0, clone(op.value) as Json);
      else if (index >= parent.length) throw new Error(`path ${op.path} does not exist`);
      else if (op.op === 'remove') parent.splice(index, 1);
      else parent[index] = clone(op.value) as Json;
    } else if (isObject(parent)) {
      if (op.op !== 'add' && !(last in parent)) throw new Error(`path ${op.path} does not exist`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = clone(op.value) as Json;
    } else {
      throw new Error(`path ${op.path} does not exist`);
    }
  }
  return root as unknown as T;
}
