// A small evaluator for the common part of Cedar's condition language, run on the policy JSON
// that cedar-wasm produces at load. It exists because one call into cedar-wasm costs tens of
// microseconds (marshalling), while the conditions ToolHive-style policies use (`principal.claim_x
// == "…"`, `.contains`, `like`, `has`, `&&`, `||`, `in`, `is`, Long comparisons) take well under
// one here. Anything outside that subset (extension functions, arithmetic, records literals,
// tags, decimals, entity data from entities_json) yields UNSUPPORTED and the decision goes to
// cedar-wasm instead. A differential test compares it with cedar-wasm on random policies.
import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';

/** Evaluation could not be done here: ask cedar-wasm. */
export const UNSUPPORTED: unique symbol = Symbol('unsupported');
/** A Cedar evaluation error (the policy is "errored": with ToolHive semantics the request is denied). */
export const ERROR: unique symbol = Symbol('error');

type Uid = { readonly type: string; readonly id: string };
class EntityRef {
  constructor(
    readonly type: string,
    readonly id: string,
  ) {}
}
type V = string | boolean | number | V[] | EntityRef | { readonly [k: string]: CedarValueJson };
type R = V | typeof ERROR | typeof UNSUPPORTED;

export interface EvalEntity {
  uid: Uid;
  /** `type::"id"` keys of its ancestors. */
  ancestors: readonly string[];
  attrs: Readonly<Record<string, CedarValueJson>> | undefined;
}

export interface EvalEnv {
  principal: EvalEntity;
  action: EvalEntity;
  resource: EvalEntity;
  context: Readonly<Record<string, CedarValueJson>>;
}

const key = (type: string, id: string) => `${type}::${JSON.stringify(id)}`;
/** Own attributes only: `has toString` is false in Cedar. */
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function fromJson(v: CedarValueJson | undefined): R {
  if (v === undefined || v === null) return UNSUPPORTED;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? v : UNSUPPORTED;
    case 'object':
      if (Array.isArray(v)) {
        const out: V[] = [];
        for (const x of v) {
          const c = fromJson(x);
          if (typeof c === 'symbol') return c;
          out.push(c);
        }
        return out;
      }
      if ('__extn' in v || '__expr' in v) return UNSUPPORTED;
      if ('__entity' in v) {
        const u = (v as { __entity: Uid }).__entity;
        return new EntityRef(u.type, u.id);
      }
      return v as { [k: string]: CedarValueJson }; // a record
    default:
      return UNSUPPORTED;
  }
}

const isRecord = (v: V): v is { readonly [k: string]: CedarValueJson } => typeof v === 'object' && !Array.isArray(v) && !(v instanceof EntityRef);

function equal(a: V, b: V): boolean | typeof UNSUPPORTED {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof EntityRef || b instanceof EntityRef) return a instanceof EntityRef && b instanceof EntityRef && a.type === b.type && a.id === b.id;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return false;
    // sets: same members, order and duplicates ignored
    for (const x of a) {
      const m = member(b, x);
      if (m !== true) return m;
    }
    for (const x of b) {
      const m = member(a, x);
      if (m !== true) return m;
    }
    return true;
  }
  return UNSUPPORTED; // record equality: leave to Cedar
}

function member(set: V[], x: V): boolean | typeof UNSUPPORTED {
  let unsure = false;
  for (const y of set) {
    const e = equal(y, x);
    if (e === true) return true;
    if (e === UNSUPPORTED) unsure = true;
  }
  return unsure ? UNSUPPORTED : false;
}

const likeCache = new WeakMap<object, RegExp>();

/** One per authorizer; `env` is set for each decision (evaluation is synchronous). */
export class Evaluator {
  env!: EvalEnv;

  constructor(
    /** Ancestors of entity literals (none without entities_json). */
    private readonly literalAncestors: (k: string) => readonly string[] = () => [],
  ) {}

  /** true / false for the policy's conditions, ERROR, or UNSUPPORTED. */
  conditions(clauses: readonly { kind: 'when' | 'unless'; body: unknown }[]): boolean | typeof ERROR | typeof UNSUPPORTED {
    for (const c of clauses) {
      const r = this.eval(c.body);
      if (typeof r === 'symbol') return r;
      if (typeof r !== 'boolean') return ERROR;
      if (c.kind === 'when' ? !r : r) return false;
    }
    return true;
  }

  private entityOf(v: V): EvalEntity | undefined {
    if (!(v instanceof EntityRef)) return undefined;
    for (const e of [this.env.principal, this.env.resource, this.env.action]) if (e.uid.type === v.type && e.uid.id === v.id) return e;
    return undefined;
  }

  private attr(target: V, name: string): R {
    if (target instanceof EntityRef) {
      const e = this.entityOf(target);
      if (e === undefined || e.attrs === undefined) return ERROR; // not a known entity: Cedar errors too
      if (!hasOwn(e.attrs, name)) return ERROR;
      return fromJson(e.attrs[name]);
    }
    if (isRecord(target)) {
      if (!hasOwn(target, name)) return ERROR;
      return fromJson(target[name]);
    }
    return ERROR;
  }

  private has(target: V, name: string): boolean | typeof ERROR {
    if (target instanceof EntityRef) {
      const e = this.entityOf(target);
      return e?.attrs !== undefined && hasOwn(e.attrs, name);
    }
    if (isRecord(target)) return hasOwn(target, name);
    return ERROR;
  }

  private isIn(a: V, b: V): boolean | typeof ERROR {
    if (!(a instanceof EntityRef)) return ERROR;
    const targets = Array.isArray(b) ? b : [b];
    const e = this.entityOf(a);
    const ancestors = e ? e.ancestors : this.literalAncestors(key(a.type, a.id));
    for (const t of targets) {
      if (!(t instanceof EntityRef)) return ERROR;
      if (t.type === a.type && t.id === a.id) return true;
      if (ancestors.includes(key(t.type, t.id))) return true;
    }
    return false;
  }

  private like(node: object, pattern: readonly ('Wildcard' | { Literal: string })[]): RegExp {
    let re = likeCache.get(node);
    if (!re) {
      let src = '^';
      for (const p of pattern) src += p === 'Wildcard' ? '[\\s\\S]*' : p.Literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      re = new RegExp(src + '$', 'u');
      likeCache.set(node, re);
    }
    return re;
  }

  eval(node: unknown): R {
    if (node === null || typeof node !== 'object') return UNSUPPORTED;
    const n = node as Record<string, any>;
    if ('Value' in n) return fromJson(n.Value as CedarValueJson);
    if ('Var' in n) {
      switch (n.Var) {
        case 'principal':
          return new EntityRef(this.env.principal.uid.type, this.env.principal.uid.id);
        case 'action':
          return new EntityRef(this.env.action.uid.type, this.env.action.uid.id);
        case 'resource':
          return new EntityRef(this.env.resource.uid.type, this.env.resource.uid.id);
        case 'context':
          return this.env.context as { [k: string]: CedarValueJson };
      }
      return UNSUPPORTED;
    }
    if ('.' in n) {
      const t = this.eval(n['.'].left);
      return typeof t === 'symbol' ? t : this.attr(t, n['.'].attr as string);
    }
    if ('has' in n) {
      let t = this.eval(n.has.left);
      if (typeof t === 'symbol') return t;
      const path: string[] = Array.isArray(n.has.attr) ? n.has.attr : [n.has.attr];
      for (let i = 0; i < path.length; i++) {
        const h = this.has(t, path[i]!);
        if (h !== true) return h;
        if (i < path.length - 1) {
          const next = this.attr(t, path[i]!);
          if (typeof next === 'symbol') return next;
          t = next;
        }
      }
      return true;
    }
    if ('&&' in n || '||' in n) {
      const and = '&&' in n;
      const op = and ? n['&&'] : n['||'];
      const l = this.eval(op.left);
      if (typeof l === 'symbol') return l;
      if (typeof l !== 'boolean') return ERROR;
      if (and ? !l : l) return l;
      const r = this.eval(op.right);
      if (typeof r === 'symbol') return r;
      return typeof r === 'boolean' ? r : ERROR;
    }
    if ('!' in n) {
      const a = this.eval(n['!'].arg);
      if (typeof a === 'symbol') return a;
      return typeof a === 'boolean' ? !a : ERROR;
    }
    if ('if-then-else' in n) {
      const c = this.eval(n['if-then-else'].if);
      if (typeof c === 'symbol') return c;
      if (typeof c !== 'boolean') return ERROR;
      return this.eval(c ? n['if-then-else'].then : n['if-then-else'].else);
    }
    if ('Set' in n) {
      const out: V[] = [];
      for (const e of n.Set as unknown[]) {
        const v = this.eval(e);
        if (typeof v === 'symbol') return v;
        out.push(v);
      }
      return out;
    }
    if ('like' in n) {
      const l = this.eval(n.like.left);
      if (typeof l === 'symbol') return l;
      if (typeof l !== 'string') return ERROR;
      return this.like(n.like, n.like.pattern).test(l);
    }
    if ('is' in n) {
      const l = this.eval(n.is.left);
      if (typeof l === 'symbol') return l;
      if (!(l instanceof EntityRef)) return ERROR;
      if (l.type !== n.is.entity_type) return false;
      if (n.is.in === undefined) return true;
      const r = this.eval(n.is.in);
      return typeof r === 'symbol' ? r : this.isIn(l, r);
    }
    for (const op of ['==', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'containsAll', 'containsAny'] as const) {
      if (!(op in n)) continue;
      const l = this.eval(n[op].left);
      if (typeof l === 'symbol') return l;
      const r = this.eval(n[op].right);
      if (typeof r === 'symbol') return r;
      switch (op) {
        case '==':
        case '!=': {
          const eq = equal(l, r);
          if (eq === UNSUPPORTED) return UNSUPPORTED;
          return op === '==' ? eq : !eq;
        }
        case '<':
        case '<=':
        case '>':
        case '>=':
          if (typeof l !== 'number' || typeof r !== 'number') return ERROR;
          return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
        case 'in':
          return this.isIn(l, r);
        case 'contains':
          return Array.isArray(l) ? member(l, r) : ERROR;
        case 'containsAll': {
          if (!Array.isArray(l) || !Array.isArray(r)) return ERROR;
          for (const x of r) {
            const m = member(l, x);
            if (m !== true) return m;
          }
          return true;
        }
        case 'containsAny': {
          if (!Array.isArray(l) || !Array.isArray(r)) return ERROR;
          let unsure = false;
          for (const x of r) {
            const m = member(l, x);
            if (m === true) return true;
            if (m === UNSUPPORTED) unsure = true;
          }
          return unsure ? UNSUPPORTED : false;
        }
      }
    }
    if ('isEmpty' in n) {
      const a = this.eval(n.isEmpty.arg);
      if (typeof a === 'symbol') return a;
      return Array.isArray(a) ? a.length === 0 : ERROR;
    }
    // arithmetic, extension functions, record literals, tags, slots: cedar-wasm
    return UNSUPPORTED;
  }
}
