// Where Cedar policies and entities come from: inline config, `.cedar` files, and ToolHive-style
// config files (`{"version":"1.0","type":"cedarv1","cedar":{"policies":[...],"entities_json":"[]"}}`,
// JSON or YAML) or the API's InlineAuthzConfig (`{"policies":[...],"entitiesJSON":"[]"}`).
// Everything here runs at load/reload time, never on the request path.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface PolicyText {
  /** Where it came from, for error messages: `inline[2]`, `/etc/x/a.cedar`. */
  source: string;
  text: string;
}

/** ToolHive `cedar` options the agent honours besides policies and entities. */
export interface CedarClaimOptions {
  groupClaimName?: string;
  roleClaimName?: string;
  groupEntityType?: string;
  multiValuedClaims?: string[];
}

export interface LoadedSource extends CedarClaimOptions {
  policies: PolicyText[];
  /** Raw entity JSON values, validated later. */
  entities: unknown[];
  /** Every file read, for change detection (path → content). */
  files: Map<string, string>;
}

export interface AuthzSourceSpec {
  /** Inline policies (each string may hold several policies). */
  policies?: string[];
  /** Inline entities as a JSON array string. */
  entitiesJSON?: string;
  /** Files or directories: `*.cedar` (policy text), `*.json|*.yaml|*.yml` (ToolHive or InlineAuthzConfig). */
  policyPaths?: string[];
  /** A JSON file holding an entity array. */
  entitiesPath?: string;
  /** ToolHive claim options (when not given by a config file). */
  claimOptions?: CedarClaimOptions;
}

export class AuthzConfigError extends Error {
  override name = 'AuthzConfigError';
}

const CONFIG_EXT = new Set(['.json', '.yaml', '.yml']);

/** Files a path stands for: the file itself, or a directory's policy/config files (dot-files skipped: ConfigMap `..data`). */
export function expandPolicyPath(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new AuthzConfigError(`cannot read policy path ${path}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((n) => !n.startsWith('.') && (extname(n) === '.cedar' || CONFIG_EXT.has(extname(n))))
    .sort()
    .map((n) => join(path, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

function parseEntitiesJSON(text: string, where: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AuthzConfigError(`${where}: entities are not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v)) throw new AuthzConfigError(`${where}: entities must be a JSON array`);
  return v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads a ToolHive config file or an InlineAuthzConfig document. */
export function parseConfigDocument(text: string, where: string, out: LoadedSource): void {
  let doc: unknown;
  try {
    doc = where.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new AuthzConfigError(`${where}: not valid ${where.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new AuthzConfigError(`${where}: must be an object`);
  const d = doc as Record<string, unknown>;
  let body: Record<string, unknown>;
  if (d.cedar !== undefined || d.type !== undefined) {
    if (d.type !== undefined && d.type !== 'cedarv1') {
      throw new AuthzConfigError(`${where}: authorizer type ${JSON.stringify(d.type)} is not supported (only cedarv1)`);
    }
    if (d.version !== undefined && String(d.version) !== '1.0') {
      throw new AuthzConfigError(`${where}: version ${JSON.stringify(d.version)} is not supported (only "1.0")`);
    }
    if (d.cedar === null || typeof d.cedar !== 'object') throw new AuthzConfigError(`${where}: cedar configuration is required (missing 'cedar' field)`);
    body = d.cedar as Record<string, unknown>;
  } else {
    body = d;
  }
  const policies = body.policies;
  if (!Array.isArray(policies) || policies.length === 0) throw new AuthzConfigError(`${where}: at least one policy is required`);
  policies.forEach((p, i) => {
    if (typeof p !== 'string' || p.trim() === '') throw new AuthzConfigError(`${where}: policies[${i}] must be a non-empty string`);
    out.policies.push({ source: `${where}#policies[${i}]`, text: p });
  });
  const ent = body.entities_json ?? body.entitiesJSON;
  if (ent !== undefined) {
    if (typeof ent === 'string') {
      if (ent.trim() !== '') out.entities.push(...parseEntitiesJSON(ent, where));
    } else if (Array.isArray(ent)) {
      out.entities.push(...ent);
    } else {
      throw new AuthzConfigError(`${where}: entities_json must be a JSON array (as a string)`);
    }
  }
  out.groupClaimName ??= str(body.group_claim_name);
  out.roleClaimName ??= str(body.role_claim_name);
  out.groupEntityType ??= str(body.group_entity_type);
  if (Array.isArray(body.multi_valued_claims)) out.multiValuedClaims ??= body.multi_valued_claims.filter((x): x is string => typeof x === 'string');
}

/** Reads everything a spec names. Throws AuthzConfigError naming the file and problem. */
export function loadSource(spec: AuthzSourceSpec): LoadedSource {
  const out: LoadedSource = { policies: [], entities: [], files: new Map(), ...spec.claimOptions };
  spec.policies?.forEach((text, i) => out.policies.push({ source: `inline[${i}]`, text }));
  if (spec.entitiesJSON !== undefined && spec.entitiesJSON.trim() !== '') out.entities.push(...parseEntitiesJSON(spec.entitiesJSON, 'inline entitiesJSON'));
  for (const p of spec.policyPaths ?? []) {
    for (const file of expandPolicyPath(p)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new AuthzConfigError(`cannot read ${file}: ${(e as Error).message}`);
      }
      out.files.set(file, text);
      if (extname(file) === '.cedar') {
        if (text.trim() !== '') out.policies.push({ source: file, text });
      } else {
        parseConfigDocument(text, file, out);
      }
    }
  }
  if (spec.entitiesPath) {
    let text: string;
    try {
      text = readFileSync(spec.entitiesPath, 'utf8');
    } catch (e) {
      throw new AuthzConfigError(`cannot read ${spec.entitiesPath}: ${(e as Error).message}`);
    }
    out.files.set(spec.entitiesPath, text);
    out.entities.push(...parseEntitiesJSON(text, basename(spec.entitiesPath)));
  }
  if (out.policies.length === 0) throw new AuthzConfigError('no Cedar policies found (at least one is required)');
  return out;
}
