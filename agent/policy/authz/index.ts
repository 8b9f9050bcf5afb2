// Authorization stage: Cedar (cedar-wasm) with ToolHive's entity model, so ToolHive policies work
// unchanged.
//
//   principal  Client::"<sub>"      attributes claim_<name> (+ claimset_<name>), parents THVGroup::"<group>"
//   action     Action::"call_tool" | "get_prompt" | "read_resource" | "list_tools" | "list_prompts" | "list_resources"
//   resource   Tool::"<name>"       name, operation "call", feature "tool", arg_<name>, readOnlyHint, destructiveHint, …
//              Prompt::"<name>"     name, operation "get", feature "prompt", arg_<name>
//              Resource::"<uri>"    name, uri, operation "read", feature "resource" (the exact URI is the id)
//              FeatureType::"tool"  type, operation "list", feature   (list actions)
//   context    claim_<name>…, arg_<name>…
//
// Speed: cedar-wasm evaluates every policy in the set it is given, and crossing into wasm costs
// per attribute. So the set is split by scope: a request is evaluated only against the policies
// whose action and resource scopes can match it (unconstrained ones always included), each such
// subset pre-parsed once; entity attributes and context keys are pruned to names the policies
// read; and decisions are cached per principal (per verified token) and (action, resource) when
// no policy in the subset reads call arguments. A reload swaps everything at once.
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { CedarValueJson, EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import { watchFiles, type FileWatch } from '../../ops/file-watch.js';
import type { Principal, PolicyMetrics } from '../types.js';
import { compile, scopeMatches, uidKey, type Cedar, type CompiledPolicy, type CompiledPolicySet } from './compile.js';
import { extractGroups, preprocessArguments, preprocessClaims, toCedar } from './entities.js';
import { ERROR, Evaluator, UNSUPPORTED } from './evaluate.js';
import { AuthzConfigError, loadSource, type AuthzSourceSpec } from './source.js';
import { TOOL_META_BACKEND } from '../../../api/agent-constants.js';

export { AuthzConfigError } from './source.js';
export type { AuthzSourceSpec, CedarClaimOptions } from './source.js';

export type Feature = 'tool' | 'prompt' | 'resource';

export interface Decision {
  readonly allow: boolean;
  /** Ids of the policies that determined the decision (Cedar's `reason`); empty for default deny. */
  readonly policies: readonly string[];
  /** Ids of policies whose evaluation errored (they are skipped, as Cedar does). */
  readonly errors: readonly string[];
  readonly cached: boolean;
}

export interface CedarAuthorizerOptions extends AuthzSourceSpec {
  logger: Logger;
  metrics?: PolicyMetrics;
  /** Resources get parent `MCP::"<serverName>"` (ToolHive's server scoping). */
  serverName?: string;
  /** Watch policy/entity files and reload on change (default: true when files are used). */
  watch?: boolean;
  /** Quiet period before a reload after a file event (default 200 ms). */
  debounceMs?: number;
  /** Decisions remembered per principal (default 1024). */
  decisionCacheSize?: number;
  /** Decide condition-free policy subsets without calling Cedar (default true; off for differential tests). */
  scopeFastPath?: boolean;
  /** Evaluate common conditions in process, calling Cedar only for the rest (default true; off for differential tests). */
  jsEvaluator?: boolean;
}

const FEATURE = {
  tool: { action: 'call_tool', type: 'Tool', operation: 'call' },
  prompt: { action: 'get_prompt', type: 'Prompt', operation: 'get' },
  resource: { action: 'read_resource', type: 'Resource', operation: 'read' },
} as const;
const LIST_ACTION = { tool: 'list_tools', prompt: 'list_prompts', resource: 'list_resources' } as const;

const ALLOW_UNLISTED: Decision = Object.freeze({ allow: true, policies: Object.freeze([]) as readonly string[], errors: Object.freeze([]) as readonly string[], cached: true });
const DENY_EMPTY: Decision = Object.freeze({ allow: false, policies: Object.freeze([]) as readonly string[], errors: Object.freeze([]) as readonly string[], cached: true });

interface Subset {
  /** Pre-parsed policy set id, or null when no policy can match (default deny). */
  psetId: string | null;
  readsArgs: boolean;
  /** The policies, for deciding in JS when none of those matching the principal has conditions. */
  policies: CompiledPolicy[];
}

interface PrincipalData {
  gen: number;
  uidKey: string;
  /** Parents and their ancestors, for `principal in …` scopes. */
  ancestors: string[];
  entity: EntityJson;
  /** Has attributes or parents: must be passed to Cedar. */
  needed: boolean;
  /** entities_json entities reachable from the principal's parents. */
  reach: readonly string[];
  context: Record<string, CedarValueJson>;
  decisions: Map<string, [Decision, Decision]>;
}

/** Everything derived from one policy set; replaced as a whole on reload. */
interface State {
  gen: number;
  set: CompiledPolicySet;
  subsets: Map<string, Subset>;
  bySignature: Map<string, string>;
  slot: number;
  actions: Map<string, { entity: EntityJson; needed: boolean; reach: readonly string[] }>;
  resourceParents: Map<string, { parents: EntityUidJson[]; ancestors: string[]; base?: Record<string, CedarValueJson>; reach: readonly string[] }>;
}

/** A tool's attributes from the server's list: its boolean hints, and `backend` behind an aggregate. */
type ToolAttributes = Record<string, boolean | string>;

let instances = 0;

export class CedarAuthorizer {
  private state: State;
  private readonly principals = new WeakMap<Principal, PrincipalData>();
  private annotations = new Map<string, ToolAttributes>();
  private annotationsGen = 0;
  private readonly prefix = `ome${++instances}.`;
  private watch: FileWatch | undefined;
  private readonly cacheSize: number;
  private generation = 0;
  private readonly evaluator = new Evaluator();

  private constructor(
    private readonly cedar: Cedar,
    private readonly options: CedarAuthorizerOptions,
    set: CompiledPolicySet,
  ) {
    this.cacheSize = options.decisionCacheSize ?? 1024;
    this.state = this.newState(set);
  }

  static async create(options: CedarAuthorizerOptions): Promise<CedarAuthorizer> {
    // Node 20's V8 (11.3) aborts the process ("Fatal error … unreachable code" in
    // Deoptimizer::DoComputeBuiltinContinuation) now and then when TurboFan has inlined a JS→wasm
    // call that later deoptimizes; a loop of cedar-wasm calls with fresh principals hit it within
    // seconds. Turning that inlining off before the wasm glue is loaded avoids it (0 crashes in
    // repeated runs against several in ten without), at no measurable cost: the call is dominated
    // by argument marshalling.
    setFlagsFromString('--no-turbo-inline-js-wasm-calls');
    const cedar = (await import('@cedar-policy/cedar-wasm/nodejs')) as unknown as Cedar;
    const set = compile(cedar, loadSource(options));
    const a = new CedarAuthorizer(cedar, options, set);
    const files = (options.policyPaths?.length ?? 0) > 0 || options.entitiesPath !== undefined;
    if (files && options.watch !== false) a.startWatching();
    options.logger.info({ policies: set.policies.length, entities: set.entities.size }, 'authorization policies loaded');
    return a;
  }

  /** Bumped on every successful reload (and annotation change); decision caches key on it. */
  get policyGeneration(): number {
    return this.generation;
  }

  get policyCount(): number {
    return this.state.set.policies.length;
  }

  private newState(set: CompiledPolicySet): State {
    this.generation++;
    return { gen: this.generation, set, subsets: new Map(), bySignature: new Map(), slot: 0, actions: new Map(), resourceParents: new Map() };
  }

  /** Re-reads the sources. A broken set is refused (old one stays, error logged, metric counted). Returns whether the set changed. */
  reload(): boolean {
    let set: CompiledPolicySet;
    try {
      set = compile(this.cedar, loadSource(this.options));
    } catch (e) {
      this.options.metrics?.policyReloadFailed?.();
      this.options.logger.error({ err: e instanceof AuthzConfigError ? e.message : e }, 'authorization policy reload failed; keeping the previous policies');
      return false;
    }
    if (set.fingerprint === this.state.set.fingerprint) return false;
    this.state = this.newState(set); // one assignment: requests see the old set or the new one, never a mix
    this.options.metrics?.policyReloaded?.();
    this.options.logger.info({ policies: set.policies.length, entities: set.entities.size }, 'authorization policies reloaded');
    return true;
  }

  private startWatching(): void {
    const paths = [...(this.options.policyPaths ?? []), ...(this.options.entitiesPath ? [this.options.entitiesPath] : [])];
    this.watch = watchFiles(paths, () => this.reload(), { logger: this.options.logger, what: 'policy', debounceMs: this.options.debounceMs });
  }

  close(): void {
    this.watch?.close();
    this.watch = undefined;
  }

  /**
   * Remembers tool annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint) from
   * the server's tools/list: they become attributes of `Tool` resources. Never from the client.
   * Behind an aggregate, also the backend serving each tool (`_meta["ome.io/backend"]`, which the
   * aggregate sets): `resource.backend`.
   */
  setToolAnnotations(tools: readonly unknown[]): void {
    const next = new Map<string, ToolAttributes>();
    for (const t of tools) {
      if (t === null || typeof t !== 'object') continue;
      const { name, annotations, _meta } = t as { name?: unknown; annotations?: unknown; _meta?: unknown };
      if (typeof name !== 'string') continue;
      const a: ToolAttributes = {};
      let any = false;
      if (annotations !== null && typeof annotations === 'object') {
        for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
          const v = (annotations as Record<string, unknown>)[k];
          if (typeof v === 'boolean') {
            a[k] = v;
            any = true;
          }
        }
      }
      const backend = _meta !== null && typeof _meta === 'object' ? (_meta as Record<string, unknown>)[TOOL_META_BACKEND] : undefined;
      if (typeof backend === 'string') {
        a.backend = backend;
        any = true;
      }
      if (any) next.set(name, a);
    }
    if (sameAnnotations(this.annotations, next)) return;
    this.annotations = next;
    this.annotationsGen++;
  }

  /** Annotations (and backend) of a tool as last seen in the server's tools/list. */
  toolAnnotations(name: string): Readonly<ToolAttributes> | undefined {
    return this.annotations.get(name);
  }

  /** call_tool / get_prompt / read_resource on one item, with the request's arguments. */
  authorize(principal: Principal, feature: Feature, id: string, args?: Readonly<Record<string, unknown>>): Decision {
    const f = FEATURE[feature];
    return this.decide(principal, f.action, f.type, id, feature, f.operation, args);
  }

  /**
   * list_tools / list_prompts / list_resources. As in ToolHive, lists are allowed and their
   * results filtered, unless some policy names the list action explicitly: then it is enforced.
   */
  authorizeList(principal: Principal, feature: Feature): Decision {
    const action = LIST_ACTION[feature];
    if (!this.state.set.namedActions.has(uidKey('Action', action))) return ALLOW_UNLISTED;
    return this.decide(principal, action, 'FeatureType', feature, feature, 'list', undefined);
  }

  private decide(principal: Principal, action: string, type: string, id: string, feature: Feature, operation: string, args: Readonly<Record<string, unknown>> | undefined): Decision {
    const st = this.state;
    const set = st.set;
    const resKey = uidKey(type, id);
    const actionKey = uidKey('Action', action);
    let subset: Subset;
    try {
      subset = this.subsetFor(st, actionKey, type, resKey);
    } catch (err) {
      this.options.logger.error({ err }, 'authorization policy subset failed; denying');
      return DENY_EMPTY;
    }
    if (subset.psetId === null) {
      this.options.metrics?.decision?.('deny', true);
      return DENY_EMPTY;
    }
    const pd = this.principalData(st, principal);
    const hasArgs = args !== undefined && hasKeys(args);
    const cacheable = !hasArgs || !subset.readsArgs;
    const cacheKey = cacheable ? `${this.annotationsGen}\0${actionKey}\0${resKey}` : '';
    if (cacheable) {
      const hit = pd.decisions.get(cacheKey);
      if (hit !== undefined) {
        this.options.metrics?.decision?.(hit[1].allow ? 'allow' : 'deny', true);
        return hit[1];
      }
    }

    const fast = this.decideByScope(subset, pd);
    if (fast !== undefined) {
      this.options.metrics?.decision?.(fast.allow ? 'allow' : 'deny', false);
      if (cacheable) this.remember(pd, cacheKey, fast);
      return fast;
    }

    // Resource entity, ToolHive attribute order: annotations < arguments < standard attributes.
    const names = set.attrNames;
    const argAttrs = hasArgs ? preprocessArguments(args, names) : undefined;
    const argContext = hasArgs ? preprocessArguments(args, set.contextWhole ? undefined : set.contextNames) : undefined;
    const attrs: Record<string, CedarValueJson> = {};
    if (type === 'Tool') {
      const ann = this.annotations.get(id);
      if (ann) for (const k in ann) if (names.has(k)) attrs[k] = ann[k]!;
    }
    const rp = this.resourceInfo(st, resKey);
    if (rp.base) Object.assign(attrs, rp.base);
    if (feature === 'tool' && argAttrs) Object.assign(attrs, argAttrs);
    if (type === 'FeatureType' && names.has('type')) attrs.type = id;
    if (names.has('name')) attrs.name = id;
    if (type === 'Resource' && names.has('uri')) attrs.uri = id;
    if (names.has('operation')) attrs.operation = operation;
    if (names.has('feature')) attrs.feature = feature;
    if (feature !== 'tool' && argAttrs) Object.assign(attrs, argAttrs);

    const act = this.actionInfo(st, action, actionKey);
    const context = argContext ? { ...pd.context, ...argContext } : pd.context;

    if (this.options.jsEvaluator !== false && set.entities.size === 0) {
      const d = this.evaluateHere(subset, pd, act.entity, { type, id }, rp.ancestors, attrs, context);
      if (d !== undefined) {
        this.options.metrics?.decision?.(d.allow ? 'allow' : 'deny', false);
        if (cacheable) this.remember(pd, cacheKey, d);
        return d;
      }
    }

    // Entities without attributes or parents are left out: Cedar resolves `==`/`in` by uid alone,
    // and every object crossing into wasm costs.
    const entities: EntityJson[] = [];
    if (pd.needed) entities.push(pd.entity);
    if (act.needed) entities.push(act.entity);
    if (rp.parents.length > 0 || hasKeys(attrs)) entities.push({ uid: { type, id }, attrs, parents: rp.parents });
    if (set.entities.size > 0) {
      const skip = new Set([uidKey('Client', principal.sub), actionKey, resKey]);
      const seen = new Set<string>();
      for (const list of [set.literalReach, pd.reach, act.reach, rp.reach]) {
        for (const k of list) {
          if (skip.has(k) || seen.has(k)) continue;
          seen.add(k);
          entities.push(set.entities.get(k)!);
        }
      }
    }
    const answer = this.cedar.statefulIsAuthorized({
      principal: pd.entity.uid,
      action: act.entity.uid,
      resource: { type, id },
      context,
      preparsedPolicySetId: subset.psetId,
      entities,
    });
    let decision: Decision;
    if (answer.type === 'failure') {
      this.options.logger.warn({ errors: answer.errors.map((e) => e.message), action, resource: resKey }, 'authorization request failed; denying');
      decision = { allow: false, policies: [], errors: ['request'], cached: false };
    } else {
      const r = answer.response;
      const errors = r.diagnostics.errors.map((e) => e.policyId);
      // As ToolHive does: a policy that errors (e.g. reads a claim the token lacks without a `has`
      // guard) makes the request fail closed, even if another policy permits it.
      decision = errors.length > 0 ? { allow: false, policies: [], errors, cached: false } : { allow: r.decision === 'allow', policies: r.diagnostics.reason, errors, cached: false };
    }
    this.options.metrics?.decision?.(decision.allow ? 'allow' : 'deny', false);
    if (cacheable) this.remember(pd, cacheKey, decision);
    return decision;
  }

  /**
   * The decision from the in-process evaluator, or undefined when some policy that applies uses
   * something it does not support (then Cedar decides). Same semantics as the Cedar path: any
   * errored policy denies, then forbid over permit, then default deny.
   */
  private evaluateHere(
    subset: Subset,
    pd: PrincipalData,
    action: EntityJson,
    resource: { type: string; id: string },
    resourceAncestors: readonly string[],
    resourceAttrs: Record<string, CedarValueJson>,
    context: Record<string, CedarValueJson>,
  ): Decision | undefined {
    const ev = this.evaluator;
    ev.env = {
      principal: { uid: pd.entity.uid as { type: string; id: string }, ancestors: pd.ancestors, attrs: pd.entity.attrs },
      action: { uid: action.uid as { type: string; id: string }, ancestors: [], attrs: action.attrs },
      resource: { uid: resource, ancestors: resourceAncestors, attrs: resourceAttrs },
      context,
    };
    let errors: string[] | undefined;
    let forbids: string[] | undefined;
    let permits: string[] | undefined;
    for (const p of subset.policies) {
      if (!scopeMatches(p.principal, 'Client', pd.uidKey, pd.ancestors)) continue;
      const r = p.conditional ? ev.conditions(p.conditions) : true;
      if (r === UNSUPPORTED) return undefined;
      if (r === ERROR) (errors ??= []).push(p.id);
      else if (r) (p.effect === 'forbid' ? (forbids ??= []) : (permits ??= [])).push(p.id);
    }
    if (errors) return { allow: false, policies: [], errors, cached: false };
    if (forbids) return { allow: false, policies: forbids, errors: [], cached: false };
    if (permits) return { allow: true, policies: permits, errors: [], cached: false };
    return { allow: false, policies: [], errors: [], cached: false };
  }

  private remember(pd: PrincipalData, key: string, decision: Decision): void {
    if (pd.decisions.size >= this.cacheSize) pd.decisions.clear();
    pd.decisions.set(key, [decision, { ...decision, cached: true }]);
  }

  /**
   * Cedar's answer computed here when no policy that can match this principal has conditions:
   * then each applies by its scope alone, and forbid-over-permit with default deny is the whole
   * semantics. Saves the call into wasm for the common "who may call what" policies.
   */
  private decideByScope(subset: Subset, pd: PrincipalData): Decision | undefined {
    if (this.options.scopeFastPath === false) return undefined;
    let forbids: string[] | undefined;
    let permits: string[] | undefined;
    for (const p of subset.policies) {
      if (!scopeMatches(p.principal, 'Client', pd.uidKey, pd.ancestors)) continue;
      if (p.conditional) return undefined;
      if (p.effect === 'forbid') (forbids ??= []).push(p.id);
      else (permits ??= []).push(p.id);
    }
    if (forbids) return { allow: false, policies: forbids, errors: [], cached: false };
    if (permits) return { allow: true, policies: permits, errors: [], cached: false };
    return { allow: false, policies: [], errors: [], cached: false };
  }

  private subsetFor(st: State, actionKey: string, type: string, resKey: string): Subset {
    const key = actionKey + '\0' + resKey;
    const cached = st.subsets.get(key);
    if (cached) return cached;
    const ancestors = this.resourceInfo(st, resKey).ancestors;
    const actionAncestors = st.set.reach.get(actionKey) ?? [];
    const picked: number[] = [];
    let readsArgs = false;
    st.set.policies.forEach((p, i) => {
      if (scopeMatches(p.action, 'Action', actionKey, actionAncestors) && scopeMatches(p.resource, type, resKey, ancestors)) {
        picked.push(i);
        if (p.readsArgs) readsArgs = true;
      }
    });
    let psetId: string | null = null;
    if (picked.length > 0) {
      const sig = picked.join(',');
      psetId = st.bySignature.get(sig) ?? null;
      if (psetId === null) {
        psetId = this.prefix + st.slot++;
        const r = this.cedar.preparsePolicySet(psetId, { staticPolicies: Object.fromEntries(picked.map((i) => [st.set.policies[i]!.id, st.set.policies[i]!.text])) });
        if (r.type === 'failure') throw new AuthzConfigError(`policy subset failed to parse: ${r.errors[0]?.message}`);
        st.bySignature.set(sig, psetId);
      }
    }
    const policies = picked.map((i) => st.set.policies[i]!);
    const s: Subset = { psetId, readsArgs, policies };
    if (st.subsets.size >= 10_000) st.subsets.clear();
    st.subsets.set(key, s);
    return s;
  }

  /** Parents (MCP::"<server>" plus entities_json), ancestors for scope matching, and entities_json attributes of a resource. */
  private resourceInfo(st: State, resKey: string) {
    let r = st.resourceParents.get(resKey);
    if (r) return r;
    const set = st.set;
    const parents: EntityUidJson[] = [];
    const server = this.options.serverName;
    if (server) parents.push({ type: 'MCP', id: server });
    const known = set.entities.get(resKey);
    let base: Record<string, CedarValueJson> | undefined;
    if (known) {
      // entities_json may describe a tool/prompt/resource (ToolHive's docs do): its attributes
      // and parents are merged into the request's entity, request attributes winning.
      parents.push(...(known.parents as EntityUidJson[]));
      base = known.attrs;
    }
    const reach: string[] = [];
    for (const p of parents) {
      const t = '__entity' in p ? p.__entity : p;
      reach.push(...(set.reach.get(uidKey(t.type, t.id)) ?? []));
    }
    if (known) for (const k of set.reach.get(resKey) ?? []) if (k !== resKey) reach.push(k);
    const ancestors = [...new Set([...parents.map((p) => ('__entity' in p ? uidKey(p.__entity.type, p.__entity.id) : uidKey(p.type, p.id))), ...reach])];
    r = { parents, ancestors, base, reach };
    if (st.resourceParents.size >= 10_000) st.resourceParents.clear();
    st.resourceParents.set(resKey, r);
    return r;
  }

  private actionInfo(st: State, action: string, actionKey: string) {
    let a = st.actions.get(actionKey);
    if (a) return a;
    const set = st.set;
    const known = set.entities.get(actionKey);
    const attrs: Record<string, CedarValueJson> = { ...(known?.attrs ?? {}) };
    if (set.attrNames.has('operation')) attrs.operation = action;
    const parents = known?.parents ?? [];
    a = { entity: { uid: { type: 'Action', id: action }, attrs, parents }, needed: parents.length > 0 || hasKeys(attrs), reach: (set.reach.get(actionKey) ?? []).filter((k) => k !== actionKey) };
    st.actions.set(actionKey, a);
    return a;
  }

  private principalData(st: State, principal: Principal): PrincipalData {
    let pd = this.principals.get(principal);
    if (pd !== undefined && pd.gen === st.gen) return pd;
    const set = st.set;
    const names = set.attrNames;
    const claims = preprocessClaims(principal.claims, set.multiValuedClaims);
    const attrs: Record<string, CedarValueJson> = {};
    const context: Record<string, CedarValueJson> = {};
    for (const k in claims) {
      const inAttrs = names.has(k);
      const inContext = set.contextWhole || set.contextNames.has(k);
      if (!inAttrs && !inContext) continue;
      const v = toCedar(claims[k]);
      if (v === undefined) continue;
      if (inAttrs) attrs[k] = v;
      if (inContext) context[k] = v;
    }
    const uidK = uidKey('Client', principal.sub);
    const known = set.entities.get(uidK);
    const parents: EntityUidJson[] = [...((known?.parents as EntityUidJson[]) ?? [])];
    const reach: string[] = [];
    for (const g of extractGroups(principal.claims, set.groupClaimName, set.roleClaimName)) {
      const k = uidKey(set.groupEntityType, g);
      // A group nobody refers to cannot change any decision; leaving it out keeps the call small.
      if (!set.relevantUids.has(k)) continue;
      parents.push({ type: set.groupEntityType, id: g });
    }
    for (const p of parents) {
      const t = '__entity' in p ? p.__entity : p;
      reach.push(...(set.reach.get(uidKey(t.type, t.id)) ?? []));
    }
    const entity: EntityJson = { uid: { type: 'Client', id: principal.sub }, attrs: known ? { ...known.attrs, ...attrs } : attrs, parents };
    const ancestors = [...new Set([...parents.map((p) => ('__entity' in p ? uidKey(p.__entity.type, p.__entity.id) : uidKey(p.type, p.id))), ...reach])];
    pd = { gen: st.gen, uidKey: uidK, ancestors, entity, needed: parents.length > 0 || hasKeys(entity.attrs), reach, context, decisions: new Map() };
    this.principals.set(principal, pd);
    return pd;
  }
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function sameAnnotations(a: Map<string, ToolAttributes>, b: Map<string, ToolAttributes>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) return false;
    const kv = Object.keys(v);
    if (kv.length !== Object.keys(w).length) return false;
    for (const x of kv) if (v[x] !== w[x]) return false;
  }
  return true;
}

export const createCedarAuthorizer = (options: CedarAuthorizerOptions): Promise<CedarAuthorizer> => CedarAuthorizer.create(options);
