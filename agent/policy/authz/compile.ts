// Compiles a loaded policy source into an immutable CompiledPolicySet: every policy parsed and
// analysed once (scope constraints for indexing, attribute names it reads, whether it reads tool
// arguments), entities normalised and validated. A reload builds a new set and swaps it in whole.
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import type { EntityJson, EntityUidJson, PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { AuthzConfigError, type CedarClaimOptions, type LoadedSource } from './source.js';

export type Cedar = typeof CedarWasm;

export interface Uid {
  type: string;
  id: string;
}
export const uidKey = (type: string, id: string): string => `${type}::${JSON.stringify(id)}`;

export type Scope =
  | { kind: 'all' }
  | { kind: 'eq'; key: string }
  | { kind: 'in'; keys: string[] }
  | { kind: 'is'; type: string; inKey?: string };

export interface CompiledPolicy {
  id: string;
  source: string;
  text: string;
  effect: 'permit' | 'forbid';
  /** Has `when`/`unless` clauses. A policy without them is decided by its scope alone. */
  conditional: boolean;
  /** The clauses as Cedar's JSON AST, for the in-process evaluator. */
  conditions: PolicyJson['conditions'];
  principal: Scope;
  action: Scope;
  resource: Scope;
  /** Reads `context.arg_*`, `resource.arg_*` or the whole context: decisions depend on call arguments. */
  readsArgs: boolean;
}

export interface CompiledPolicySet extends Omit<CedarClaimOptions, 'groupEntityType'> {
  groupEntityType: string;
  policies: CompiledPolicy[];
  /** Attribute names read anywhere (`x.attr`, `x has attr`); entity attributes are pruned to these. */
  attrNames: Set<string>;
  /** Context keys read (`context.key`, `context has key`); the context is pruned to these. */
  contextNames: Set<string>;
  /** The whole context record is used (not just `context.attr`): pass every context key. */
  contextWhole: boolean;
  /** Entities from entities_json by uid key. */
  entities: Map<string, EntityJson>;
  /** Per entity uid key: itself plus every entity reachable through parents and entity-valued attributes. */
  reach: Map<string, string[]>;
  /** Entities always passed: those reachable from entity literals in the policies. */
  literalReach: string[];
  /** UIDs that can matter for `in`: literals in policies plus everything in entities_json. */
  relevantUids: Set<string>;
  /** Action ids named explicitly in some policy's action scope (list_* actions are enforced only then). */
  namedActions: Set<string>;
  /** Content fingerprint, to skip no-op reloads. */
  fingerprint: string;
}

function normUid(v: unknown, where: string): Uid {
  if (typeof v === 'string') {
    // ToolHive docs write `"uid": "Tool::weather"`; accept `Type::id` and `Type::"id"`.
    const i = v.lastIndexOf('::');
    if (i <= 0) throw new AuthzConfigError(`${where}: entity uid ${JSON.stringify(v)} is not Type::"id"`);
    let id = v.slice(i + 2);
    if (id.startsWith('"') && id.endsWith('"') && id.length >= 2) id = JSON.parse(id) as string;
    return { type: v.slice(0, i), id };
  }
  if (v !== null && typeof v === 'object') {
    const o = ('__entity' in v ? (v as { __entity: unknown }).__entity : v) as Record<string, unknown>;
    if (typeof o?.type === 'string' && typeof o.id === 'string') return { type: o.type, id: o.id };
  }
  throw new AuthzConfigError(`${where}: entity uid must be {"type": ..., "id": ...}`);
}

function normaliseEntities(raw: unknown[]): EntityJson[] {
  return raw.map((e, i) => {
    const where = `entities[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new AuthzConfigError(`${where}: must be an object`);
    const o = e as Record<string, unknown>;
    const uid = normUid(o.uid, where);
    const parents = o.parents === undefined ? [] : Array.isArray(o.parents) ? o.parents.map((p, j) => normUid(p, `${where}.parents[${j}]`)) : null;
    if (parents === null) throw new AuthzConfigError(`${where}: parents must be an array`);
    const attrs = (o.attrs ?? {}) as Record<string, CedarWasm.CedarValueJson>;
    const out: EntityJson = { uid, attrs, parents };
    if (o.tags !== undefined) out.tags = o.tags as Record<string, CedarWasm.CedarValueJson>;
    return out;
  });
}

function scopeOf(c: PolicyJson['action'] | PolicyJson['resource']): Scope {
  switch (c.op) {
    case 'All':
      return { kind: 'all' };
    case '==':
      return 'entity' in c ? { kind: 'eq', key: keyOf(c.entity) } : { kind: 'all' }; // template slot: unconstrained
    case 'in':
      if ('entities' in c) return { kind: 'in', keys: c.entities.map(keyOf) };
      return 'entity' in c ? { kind: 'in', keys: [keyOf(c.entity)] } : { kind: 'all' };
    case 'is': {
      const inc = c.in;
      return { kind: 'is', type: c.entity_type, inKey: inc && 'entity' in inc ? keyOf(inc.entity) : undefined };
    }
    default:
      return { kind: 'all' };
  }
}

function scopeLiterals(c: object, out: Set<string>): void {
  const o = c as { entity?: EntityUidJson; entities?: EntityUidJson[]; in?: { entity?: EntityUidJson } };
  if (o.entity) out.add(keyOf(o.entity));
  if (Array.isArray(o.entities)) for (const e of o.entities) out.add(keyOf(e));
  if (o.in?.entity) out.add(keyOf(o.in.entity));
}

function keyOf(u: EntityUidJson): string {
  const t = '__entity' in u ? u.__entity : u;
  return uidKey(t.type, t.id);
}

interface Analysis {
  attrs: Set<string>;
  contextNames: Set<string>;
  contextWhole: boolean;
  readsArgs: boolean;
  literals: Set<string>;
}

/** Walks a policy's JSON expression tree. */
function analyse(node: unknown, a: Analysis): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) analyse(n, a);
    return;
  }
  const o = node as Record<string, unknown>;
  if ('__entity' in o) {
    const u = o.__entity as Uid;
    a.literals.add(uidKey(u.type, u.id));
    return;
  }
  const dot = (o['.'] ?? o.has) as { left: unknown; attr: string | string[] } | undefined;
  if (dot && typeof dot === 'object' && 'left' in dot && 'attr' in dot) {
    const names = Array.isArray(dot.attr) ? dot.attr : [dot.attr];
    const left = dot.left as Record<string, unknown>;
    const v = left && typeof left === 'object' ? left.Var : undefined;
    // `context.a.b` / `context has a.b`: the context key is the first name; the rest are record fields
    if (v === 'context') a.contextNames.add(names[0]!);
    else for (const n of names) a.attrs.add(n);
    if (v === 'context' || v === 'resource') {
      if (names[0]!.startsWith('arg_')) a.readsArgs = true;
      return;
    }
    if (v !== undefined) return;
    analyse(dot.left, a);
    return;
  }
  if (o.Var === 'context') {
    a.contextWhole = true;
    a.readsArgs = true;
    return;
  }
  for (const k in o) analyse(o[k], a);
}

function collectValueUids(v: unknown, out: string[]): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) collectValueUids(x, out);
    return;
  }
  const o = v as Record<string, unknown>;
  if (o.__entity && typeof o.__entity === 'object') {
    const u = o.__entity as Uid;
    out.push(uidKey(u.type, u.id));
    return;
  }
  for (const k in o) collectValueUids(o[k], out);
}

function fail(where: string, errors: { message: string; help?: string | null }[]): never {
  const first = errors[0];
  throw new AuthzConfigError(`${where}: ${first ? first.message + (first.help ? ` (${first.help})` : '') : 'invalid'}`);
}

/** Parses, validates and analyses a loaded source. Throws AuthzConfigError naming the bad policy. */
export function compile(cedar: Cedar, src: LoadedSource): CompiledPolicySet {
  // Split every text into single policies, keeping where each came from.
  const parts: { source: string; text: string }[] = [];
  for (const p of src.policies) {
    const r = cedar.policySetTextToParts(p.text);
    if (r.type === 'failure') fail(p.source, r.errors);
    if (r.policy_templates.length > 0) throw new AuthzConfigError(`${p.source}: policy templates are not supported`);
    if (r.policies.length === 0) throw new AuthzConfigError(`${p.source}: no policy found`);
    r.policies.forEach((text, i) => parts.push({ source: r.policies.length > 1 ? `${p.source}#${i}` : p.source, text }));
  }

  const attrNames = new Set<string>();
  const contextNames = new Set<string>();
  const literals = new Set<string>();
  const namedActions = new Set<string>();
  let contextWhole = false;
  const ids = new Set<string>();
  const policies: CompiledPolicy[] = parts.map((p, i) => {
    const r = cedar.policyToJson(p.text);
    if (r.type === 'failure') fail(p.source, r.errors);
    const json = r.json;
    // ToolHive numbers policies policy0, policy1, …; an @id annotation names one explicitly.
    let id = json.annotations?.id ?? `policy${i}`;
    if (ids.has(id)) {
      if (json.annotations?.id !== undefined) throw new AuthzConfigError(`${p.source}: duplicate policy id ${JSON.stringify(id)}`);
      id = `policy${i}_${ids.size}`;
    }
    ids.add(id);
    const a: Analysis = { attrs: attrNames, contextNames, contextWhole: false, readsArgs: false, literals };
    analyse(json.conditions, a);
    for (const c of [json.principal, json.action, json.resource]) scopeLiterals(c, literals);
    if (a.contextWhole) contextWhole = true;
    const action = scopeOf(json.action);
    if (action.kind === 'eq') namedActions.add(action.key);
    if (action.kind === 'in') for (const k of action.keys) namedActions.add(k);
    return {
      id,
      source: p.source,
      text: p.text,
      effect: json.effect,
      conditional: json.conditions.length > 0,
      conditions: json.conditions,
      principal: scopeOf(json.principal as PolicyJson['resource']),
      action,
      resource: scopeOf(json.resource),
      readsArgs: a.readsArgs,
    };
  });

  const check = cedar.checkParsePolicySet({ staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) });
  if (check.type === 'failure') fail('policy set', check.errors);

  const entityList = normaliseEntities(src.entities);
  const ec = cedar.checkParseEntities({ entities: entityList });
  if (ec.type === 'failure') fail('entities', ec.errors);
  const entities = new Map<string, EntityJson>();
  for (const e of entityList) {
    const u = e.uid as Uid;
    const k = uidKey(u.type, u.id);
    if (entities.has(k)) throw new AuthzConfigError(`entities: duplicate entity ${k}`);
    entities.set(k, e);
  }

  // Reachability closure per entity (parents + entity-valued attributes), for passing only what
  // a request can touch.
  const edges = new Map<string, string[]>();
  for (const [k, e] of entities) {
    const out: string[] = e.parents.map(keyOf);
    collectValueUids(e.attrs, out);
    edges.set(k, out);
  }
  const reach = new Map<string, string[]>();
  const closure = (start: string): string[] => {
    const cached = reach.get(start);
    if (cached) return cached;
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (seen.has(k) || !entities.has(k)) continue;
      seen.add(k);
      for (const n of edges.get(k) ?? []) stack.push(n);
    }
    const r = [...seen];
    reach.set(start, r);
    return r;
  };
  for (const k of entities.keys()) closure(k);
  const literalReach = [...new Set([...literals].flatMap((k) => closure(k)))];
  const relevantUids = new Set<string>([...literals, ...entities.keys()]);
  for (const list of edges.values()) for (const k of list) relevantUids.add(k);

  const fingerprint = JSON.stringify([policies.map((p) => [p.id, p.text]), entityList, src.groupClaimName, src.roleClaimName, src.groupEntityType, src.multiValuedClaims]);
  const groupEntityType = src.groupEntityType ?? 'THVGroup';
  if (groupEntityType.includes('::') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(groupEntityType)) {
    throw new AuthzConfigError(`group_entity_type ${JSON.stringify(groupEntityType)} is not a valid Cedar identifier (namespaced types are not supported)`);
  }
  return {
    policies,
    attrNames,
    contextNames,
    contextWhole,
    entities,
    reach,
    literalReach,
    relevantUids,
    namedActions,
    fingerprint,
    groupEntityType,
    groupClaimName: src.groupClaimName,
    roleClaimName: src.roleClaimName,
    multiValuedClaims: src.multiValuedClaims,
  };
}

/** Whether a scope admits the given uid (with its ancestors). */
export function scopeMatches(s: Scope, type: string, key: string, ancestors: readonly string[]): boolean {
  switch (s.kind) {
    case 'all':
      return true;
    case 'eq':
      return s.key === key;
    case 'in':
      for (const k of s.keys) if (k === key || ancestors.includes(k)) return true;
      return false;
    case 'is':
      return s.type === type && (s.inKey === undefined || s.inKey === key || ancestors.includes(s.inKey));
  }
}
