// JSON → Cedar value conversion and the claim/argument preprocessing ToolHive's Cedar authorizer
// does (`claim_` / `claimset_` / `arg_` prefixes, groups from well-known claims), so its policies
// evaluate the same here.
import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';

const MAX_DEPTH = 10;
const DECIMAL_MAX = 922337203685477.5807;

/** Converts a JSON value to a Cedar value; unsupported values (null, out-of-range numbers) yield undefined. */
export function toCedar(v: unknown, depth = 0): CedarValueJson | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isSafeInteger(v)) return v;
      if (!Number.isFinite(v) || Math.abs(v) > DECIMAL_MAX) return undefined;
      // Cedar decimals have at most four fraction digits (ToolHive converts every JSON number to a decimal).
      return { __extn: { fn: 'decimal', arg: (Math.round(v * 10_000) / 10_000).toFixed(4) } };
    case 'object': {
      if (v === null || depth > MAX_DEPTH) return undefined;
      if (Array.isArray(v)) {
        const out: CedarValueJson[] = [];
        for (const x of v) {
          const c = toCedar(x, depth + 1);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      const rec: Record<string, CedarValueJson> = {};
      for (const k in v as Record<string, unknown>) {
        // A record key `__entity`/`__extn` would be read as an escape by Cedar's JSON format.
        if (k === '__entity' || k === '__extn' || k === '__expr' || k === '__proto__') continue;
        const c = toCedar((v as Record<string, unknown>)[k], depth + 1);
        if (c !== undefined) rec[k] = c;
      }
      return rec;
    }
    default:
      return undefined;
  }
}

export const DEFAULT_GROUP_CLAIMS = ['groups', 'roles', 'cognito:groups'] as const;

function resolveClaim(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path === '') return undefined;
  if (Object.prototype.hasOwnProperty.call(claims, path)) return claims[path];
  const parts = path.split('.');
  if (parts.length < 2) return undefined;
  let cur: unknown = claims;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function groupsFrom(claims: Readonly<Record<string, unknown>>, name: string | undefined): string[] | undefined {
  if (!name) return undefined;
  const v = resolveClaim(claims, name);
  if (!Array.isArray(v)) return undefined;
  return v.filter((x): x is string => typeof x === 'string');
}

/** Group names as ToolHive extracts them: the configured claim, else the first well-known one; plus the role claim. */
export function extractGroups(claims: Readonly<Record<string, unknown>>, groupClaimName?: string, roleClaimName?: string): string[] {
  let g = groupsFrom(claims, groupClaimName);
  if (g === undefined) {
    for (const n of DEFAULT_GROUP_CLAIMS) {
      g = groupsFrom(claims, n);
      if (g !== undefined) break;
    }
  }
  const all = [...(g ?? []), ...(groupsFrom(claims, roleClaimName) ?? [])];
  return [...new Set(all)];
}

/**
 * `claim_<name>` for every claim; with `multiValuedClaims`, `claim_<name>` becomes a space-joined
 * string and `claimset_<name>` a Set of its elements.
 */
export function preprocessClaims(claims: Readonly<Record<string, unknown>>, multiValued: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in claims) out['claim_' + k] = claims[k];
  for (const name of multiValued) {
    const v = claims[name];
    if (typeof v === 'string') {
      out['claimset_' + name] = v.split(/\s+/).filter((s) => s !== '');
    } else if (Array.isArray(v)) {
      const toks = v.filter((x): x is string => typeof x === 'string');
      out['claim_' + name] = toks.join(' ');
      out['claimset_' + name] = toks;
    }
  }
  return out;
}

/** `arg_<name>` for scalar arguments, `arg_<name>_present: true` for objects and arrays (as ToolHive does). */
export function preprocessArguments(args: Readonly<Record<string, unknown>> | undefined, keep?: ReadonlySet<string>): Record<string, CedarValueJson> | undefined {
  if (args === undefined) return undefined;
  let out: Record<string, CedarValueJson> | undefined;
  for (const k in args) {
    const v = args[k];
    let key = 'arg_' + k;
    let val: CedarValueJson | undefined;
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
      val = toCedar(v);
    } else if (v !== undefined) {
      key += '_present';
      val = true;
    }
    if (val === undefined || (keep !== undefined && !keep.has(key))) continue;
    (out ??= {})[key] = val;
  }
  return out;
}
