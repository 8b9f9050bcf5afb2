// Validation shared by everything that checks objects against the typebox schemas outside the
// API server: defaults, unknown fields, JSON Schema keywords and the CEL rules, with errors
// named by field path (`oidcConfig.inline.issuer: ...`).
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseCel } from '@marcbachmann/cel-js';

export interface Issue {
  /** Dotted path of the field, e.g. `oidcConfig.inline.issuer` or `toolsFilter[2]`; '' is the root. */
  path: string;
  message: string;
}

export class ValidationError extends Error {
  readonly issues: Issue[];
  constructor(what: string, issues: Issue[]) {
    super(`invalid ${what}:\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** JSON pointer (`/a/0/b`) → dotted path (`a[0].b`). */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : joinPath(acc, seg)), '');
}

const URL_PATTERN = '^https?://.*';

/** JSON Schema errors from typebox, deduplicated and phrased per field. */
export function schemaIssues(schema: TSchema, value: unknown): Issue[] {
  const out: Issue[] = [];
  // Check is a fraction of Errors' cost, and every agent start checks a config that is valid.
  if (Value.Check(schema, value)) return out;
  for (const e of Value.Errors(schema, value)) {
    const err = e as unknown as { keyword: string; instancePath: string; params: Record<string, unknown>; message: string };
    const path = pointerToPath(err.instancePath);
    switch (err.keyword) {
      case 'required': {
        const props = (err.params.requiredProperties as string[] | undefined) ?? [];
        for (const p of props) out.push({ path: joinPath(path, p), message: 'is required' });
        break;
      }
      case 'additionalProperties':
      case 'boolean':
        break; // unknown fields are reported by unknownFieldIssues with their own path
      case 'pattern':
        out.push({
          path,
          message: err.params.pattern === URL_PATTERN ? 'must be an http or https URL' : `must match pattern ${String(err.params.pattern)}`,
        });
        break;
      case 'enum':
        out.push({ path, message: `must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` });
        break;
      default:
        out.push({ path, message: err.message });
    }
  }
  return dedupe(out);
}

/** Fields that the schema does not know (typos in config files must not pass silently). */
export function unknownFieldIssues(schema: TSchema, value: unknown, path = ''): Issue[] {
  const s = schema as Json;
  const out: Issue[] = [];
  if (s['x-kubernetes-preserve-unknown-fields'] === true) return out;
  if (isObj(value) && isObj(s.properties)) {
    const props = s.properties as Record<string, TSchema>;
    for (const [k, v] of Object.entries(value)) {
      const sub = props[k];
      if (!sub) out.push({ path: joinPath(path, k), message: 'unknown field' });
      else out.push(...unknownFieldIssues(sub, v, joinPath(path, k)));
    }
  } else if (isObj(value) && isObj(s.patternProperties)) {
    const sub = Object.values(s.patternProperties)[0] as TSchema | undefined;
    if (sub) for (const [k, v] of Object.entries(value)) out.push(...unknownFieldIssues(sub, v, joinPath(path, k)));
  } else if (Array.isArray(value) && isObj(s.items)) {
    value.forEach((v, i) => out.push(...unknownFieldIssues(s.items as TSchema, v, joinPath(path, i))));
  }
  return out;
}

// ---------------------------------------------------------------- CEL

/**
 * The schemas' CEL rules, evaluated here with the same text the API server evaluates (by a CEL
 * library), so the agent (which reads config files, not API objects) and the unit tests enforce
 * exactly the CRDs' rules. Each rule is parsed once.
 */
const programs = new Map<string, (ctx: Record<string, unknown>) => unknown>();

function program(rule: string): (ctx: Record<string, unknown>) => unknown {
  let p = programs.get(rule);
  if (p === undefined) {
    p = parseCel(rule) as (ctx: Record<string, unknown>) => unknown;
    programs.set(rule, p);
  }
  return p;
}

export function isCelSupported(rule: string): boolean {
  try {
    program(rule);
    return true;
  } catch {
    return false;
  }
}

/** True when the rule holds. A rule that cannot be evaluated on the value (a missing field it reads) does not. */
export function evalCel(rule: string, self: unknown): boolean {
  const p = program(rule);
  try {
    return p({ self }) === true;
  } catch {
    return false;
  }
}

interface CelRuleLike {
  rule: string;
  message: string;
}

/** Walks the schema and the value together and evaluates every `x-kubernetes-validations` rule. */
export function celIssues(schema: TSchema, value: unknown, path = ''): Issue[] {
  const s = schema as Json;
  const out: Issue[] = [];
  const rules = s['x-kubernetes-validations'] as CelRuleLike[] | undefined;
  if (rules && value !== undefined) {
    for (const r of rules) if (!evalCel(r.rule, value)) out.push({ path, message: r.message });
  }
  if (isObj(value) && isObj(s.properties)) {
    for (const [k, sub] of Object.entries(s.properties as Record<string, TSchema>)) {
      if (k in value) out.push(...celIssues(sub, value[k], joinPath(path, k)));
    }
  } else if (Array.isArray(value) && isObj(s.items)) {
    value.forEach((v, i) => out.push(...celIssues(s.items as TSchema, v, joinPath(path, i))));
  }
  return out;
}

/** Every CEL rule anywhere in the schema. */
export function collectCelRules(schema: TSchema, path = ''): Array<CelRuleLike & { path: string }> {
  const s = schema as Json;
  const out: Array<CelRuleLike & { path: string }> = [];
  for (const r of (s['x-kubernetes-validations'] as CelRuleLike[] | undefined) ?? []) out.push({ ...r, path });
  if (isObj(s.properties)) {
    for (const [k, sub] of Object.entries(s.properties as Record<string, TSchema>)) out.push(...collectCelRules(sub, joinPath(path, k)));
  }
  if (isObj(s.items)) out.push(...collectCelRules(s.items as TSchema, `${path}[]`));
  return out;
}

export function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Defaults, then schema + unknown fields + CEL. Returns the defaulted value and the issues.
 * The input is not modified.
 */
export function check<T>(schema: TSchema, input: unknown): { value: T; issues: Issue[] } {
  const value = Value.Default(schema, structuredClone(input)) as T;
  const issues = dedupe([...unknownFieldIssues(schema, value), ...schemaIssues(schema, value), ...celIssues(schema, value)]);
  return { value, issues };
}
