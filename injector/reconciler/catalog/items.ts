// One declarative object (MCPTool, MCPPrompt, MCPResource) in the agent's form (api/agent-catalog.ts),
// every reference resolved: a Service to its cluster URL, a ConfigMap key to inline text, a Secret
// key to a file in the agent's catalog mount. Then checked by the schema of the agent form and by
// api/catalog-checks.ts, the check the agent runs on its config too. Used alike by a server's
// reconcile (what to serve) and by the object's own reconciler (its Valid condition).
import type { TSchema } from 'typebox';
import { CatalogPrompt, CatalogResource, CatalogTool, type CatalogHeader } from '../../../api/agent-catalog.js';
import { CATALOG_MOUNT_PATH } from '../../../api/annotations.js';
import { promptIssues, resourceIssues, toolIssues } from '../../../api/catalog-checks.js';
import type { CatalogKind, HeaderFromSecret, MCPPrompt, MCPResource, MCPTool } from '../../../api/v1beta1/catalog.js';
import { check, type Issue } from '../../../api/validate.js';
import { fit, shortHash } from '../names.js';
import type { Lookup, Reference } from '../resolve.js';
import type { Obj } from '../kit/types.js';

export type CatalogItem = (MCPTool | MCPPrompt | MCPResource) & Obj;
export type ItemForm = CatalogTool | CatalogPrompt | CatalogResource;

/** Why an object cannot be served: the Valid condition's reason and message. */
export interface ItemProblem {
  reason: 'InvalidSpec' | 'MissingConfigMap' | 'MissingSecret';
  message: string;
}

/** A Secret key the agent reads: copied into the server's catalog Secret under `file`. */
export interface SecretFile {
  /** Key in the catalog Secret (and file name under CATALOG_MOUNT_PATH). */
  file: string;
  namespace: string;
  name: string;
  key: string;
}

export interface ResolvedItem {
  kind: CatalogKind;
  /** The agent's form; undefined when there are problems (never served). */
  form?: ItemForm;
  /** The name clients see (tools, prompts) or the URI (resources): what must be unique per server. */
  identity: string;
  problems: ItemProblem[];
  secrets: SecretFile[];
  references: Reference[];
}

/**
 * The catalog Secret's key for a source Secret key: readable, and the same for every object that
 * uses it (Secret names cannot hold `/`, so `<name>.<key>` plus a short hash cannot collide).
 */
export const secretFileKey = (name: string, key: string) => `${fit(`${name}.${key}`, 200)}-${shortHash(`${name}/${key}`)}`;

const FORMS: Record<CatalogKind, TSchema> = { MCPTool: CatalogTool, MCPPrompt: CatalogPrompt, MCPResource: CatalogResource };
const CHECKS: Record<CatalogKind, (form: never) => Issue[]> = { MCPTool: toolIssues, MCPPrompt: promptIssues, MCPResource: resourceIssues };

/** Base URL of a Service target or the URL itself, with the path after it (one slash between). */
export function targetURL(t: { service?: { name: string; port: number; scheme?: string }; url?: string; path?: string }, namespace: string, clusterDomain: string): string {
  const base = t.service ? `${t.service.scheme ?? 'http'}://${t.service.name}.${namespace}.svc.${clusterDomain}:${t.service.port}` : (t.url ?? '');
  return t.path ? base.replace(/\/+$/, '') + t.path : base;
}

class Resolution {
  readonly problems: ItemProblem[] = [];
  readonly secrets: SecretFile[] = [];
  readonly references: Reference[] = [];
  constructor(
    readonly namespace: string,
    private readonly lookup: Lookup,
  ) {}

  /** A Secret key: checked to exist (its value is never read here), named by the file the agent reads. */
  async secretFile(where: string, ref: { name: string; key: string }): Promise<string> {
    this.references.push({ kind: 'Secret', namespace: this.namespace, name: ref.name });
    const s = await this.lookup.secret(this.namespace, ref.name);
    if (!s) this.problems.push({ reason: 'MissingSecret', message: `${where}: Secret ${this.namespace}/${ref.name} not found` });
    else if (s.data?.[ref.key] === undefined && s.stringData?.[ref.key] === undefined) this.problems.push({ reason: 'MissingSecret', message: `${where}: Secret ${this.namespace}/${ref.name} has no key ${JSON.stringify(ref.key)}` });
    const file = secretFileKey(ref.name, ref.key);
    if (!this.secrets.some((f) => f.file === file)) this.secrets.push({ file, namespace: this.namespace, name: ref.name, key: ref.key });
    return `${CATALOG_MOUNT_PATH}/${file}`;
  }

  async configMapText(where: string, ref: { name: string; key: string }): Promise<string | undefined> {
    this.references.push({ kind: 'ConfigMap', namespace: this.namespace, name: ref.name });
    const cm = await this.lookup.configMap(this.namespace, ref.name);
    const text = cm?.data?.[ref.key];
    if (!cm) this.problems.push({ reason: 'MissingConfigMap', message: `${where}: ConfigMap ${this.namespace}/${ref.name} not found` });
    else if (text === undefined) this.problems.push({ reason: 'MissingConfigMap', message: `${where}: ConfigMap ${this.namespace}/${ref.name} has no key ${JSON.stringify(ref.key)}` });
    return text;
  }

  async headers(where: string, headers: HeaderFromSecret[] | undefined): Promise<CatalogHeader[] | undefined> {
    if (!headers?.length) return undefined;
    const out: CatalogHeader[] = [];
    for (const [i, h] of headers.entries()) {
      const prefix = h.prefix !== undefined ? { prefix: h.prefix } : {};
      if (h.secretKeyRef) out.push({ name: h.name, file: await this.secretFile(`${where}[${i}].secretKeyRef`, h.secretKeyRef), ...prefix });
      else out.push({ name: h.name, value: h.value ?? '', ...prefix });
    }
    return out;
  }
}

const defined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

async function toolForm(t: MCPTool & Obj, r: Resolution, clusterDomain: string): Promise<CatalogTool> {
  const s = t.spec;
  const target = s.target;
  return defined({
    name: s.name ?? t.metadata.name!,
    title: s.title,
    description: s.description,
    inputSchema: s.inputSchema,
    outputSchema: s.outputSchema,
    annotations: s.annotations,
    http: defined({
      url: targetURL(target, r.namespace, clusterDomain),
      method: target.method ?? 'POST',
      query: target.query,
      bodyTemplate: target.bodyTemplate,
      headers: await r.headers('spec.target.headers', target.headers),
      timeout: target.timeout,
      retries: target.retries ?? 0,
      response: target.response ?? 'auto',
    }),
    cacheTtl: s.cache?.ttl,
  });
}

function promptForm(p: MCPPrompt & Obj): CatalogPrompt {
  const s = p.spec;
  return defined({
    name: s.name ?? p.metadata.name!,
    title: s.title,
    description: s.description,
    arguments: s.arguments,
    // `template` is the one-user-message shorthand.
    messages: s.messages ?? (s.template !== undefined ? [{ role: 'user' as const, text: s.template }] : []),
  });
}

async function resourceForm(o: MCPResource & Obj, r: Resolution, clusterDomain: string): Promise<CatalogResource> {
  const s = o.spec;
  return defined({
    uri: s.uri,
    uriTemplate: s.uriTemplate,
    name: s.name ?? o.metadata.name!,
    title: s.title,
    description: s.description,
    mimeType: s.mimeType ?? 'text/plain',
    text: s.configMapKeyRef ? await r.configMapText('spec.configMapKeyRef', s.configMapKeyRef) : s.text,
    file: s.secretKeyRef ? await r.secretFile('spec.secretKeyRef', s.secretKeyRef) : undefined,
    http: s.http
      ? defined({ url: targetURL(s.http, r.namespace, clusterDomain), headers: await r.headers('spec.http.headers', s.http.headers), timeout: s.http.timeout })
      : undefined,
  });
}

/** The check's paths are the agent form's; name the spec's fields instead (a prompt's template is its one message). */
function specPath(kind: CatalogKind, item: CatalogItem, path: string): string {
  if (kind === 'MCPPrompt' && (item as MCPPrompt).spec.template !== undefined) path = path.replace(/^messages\[0\]\.text/, 'template');
  if (kind === 'MCPTool') path = path.replace(/^http\.url$/, 'target.path').replace(/^http\./, 'target.').replace(/^cacheTtl$/, 'cache.ttl');
  if (kind === 'MCPResource') path = path.replace(/^http\.url$/, 'http.path').replace(/^file$/, 'secretKeyRef');
  return path ? `spec.${path}` : 'spec';
}

export async function resolveItem(kind: CatalogKind, item: CatalogItem, lookup: Lookup, clusterDomain: string): Promise<ResolvedItem> {
  const namespace = item.metadata.namespace ?? '';
  const r = new Resolution(namespace, lookup);
  const source = `${namespace}/${item.metadata.name}`;
  let form: ItemForm;
  try {
    if (kind === 'MCPTool') form = await toolForm(item as MCPTool & Obj, r, clusterDomain);
    else if (kind === 'MCPPrompt') form = promptForm(item as MCPPrompt & Obj);
    else form = await resourceForm(item as MCPResource & Obj, r, clusterDomain);
  } catch (e) {
    // A spec the API server would not have stored (no target, …): a status, not a crashed reconcile.
    r.problems.push({ reason: 'InvalidSpec', message: `spec: ${(e as Error).message}` });
    return { kind, identity: item.metadata.name!, problems: r.problems, secrets: r.secrets, references: r.references };
  }
  const identity = kind === 'MCPResource' ? ((form as CatalogResource).uri ?? (form as CatalogResource).uriTemplate ?? '') : (form as CatalogTool).name;
  if (!r.problems.some((p) => p.reason === 'MissingConfigMap')) {
    const { issues } = check(FORMS[kind], form);
    const all = [...issues, ...(issues.length ? [] : CHECKS[kind](form as never))];
    for (const i of all) r.problems.push({ reason: 'InvalidSpec', message: `${specPath(kind, item, i.path)}: ${i.message}` });
  }
  return { kind, identity, problems: r.problems, secrets: r.secrets, references: r.references, ...(r.problems.length ? {} : { form: { ...form, source } }) };
}
