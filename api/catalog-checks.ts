// What makes a declared tool, prompt or resource unservable, checked on the agent's form of it
// (api/agent-catalog.ts): the reconciler checks each object after resolving it and reports the
// problems on its status (Valid=False); the agent checks its config the same way at start and on
// reload, so a bad template is never served and never crashes a call.
import type { AgentCatalog, CatalogPrompt, CatalogResource, CatalogTool } from './agent-catalog.js';
import { parseTemplate, templateIssues } from './templates.js';
import type { Issue } from './validate.js';

/** The argument names a tool's inputSchema declares (undefined: it declares none, so any goes). */
export function declaredArguments(schema: Record<string, unknown> | undefined): string[] | undefined {
  const props = schema?.properties;
  return props && typeof props === 'object' && !Array.isArray(props) ? Object.keys(props) : undefined;
}

export function toolIssues(t: CatalogTool, path = ''): Issue[] {
  const out: Issue[] = [];
  const at = (p: string) => (path ? `${path}.${p}` : p);
  if (t.inputSchema !== undefined && t.inputSchema.type !== 'object') out.push({ path: at('inputSchema.type'), message: 'must be "object" (MCP tool arguments are an object)' });
  const known = declaredArguments(t.inputSchema);
  for (const m of templateIssues(t.http.url, false, known)) out.push({ path: at('target.path'), message: m });
  t.http.query?.forEach((q, i) => {
    for (const m of templateIssues(q.value, false, known)) out.push({ path: at(`target.query[${i}].value`), message: m });
  });
  if (t.http.bodyTemplate !== undefined) {
    if (t.http.method === 'GET' || t.http.method === 'DELETE') out.push({ path: at('target.bodyTemplate'), message: `a ${t.http.method} request has no body` });
    for (const m of templateIssues(t.http.bodyTemplate, true, known)) out.push({ path: at('target.bodyTemplate'), message: m });
  }
  return out;
}

export function promptIssues(p: CatalogPrompt, path = ''): Issue[] {
  const known = (p.arguments ?? []).map((a) => a.name);
  const out: Issue[] = [];
  p.messages.forEach((m, i) => {
    for (const message of templateIssues(m.text, true, known)) out.push({ path: `${path ? `${path}.` : ''}messages[${i}].text`, message });
  });
  return out;
}

export function resourceIssues(r: CatalogResource, path = ''): Issue[] {
  const at = (p: string) => (path ? `${path}.${p}` : p);
  const out: Issue[] = [];
  if ((r.uri === undefined) === (r.uriTemplate === undefined)) out.push({ path: at('uri'), message: 'set exactly one of uri and uriTemplate' });
  const sources = [r.text, r.file, r.http].filter((s) => s !== undefined).length;
  if (sources !== 1) out.push({ path: at('text'), message: 'set exactly one content source (text, a ConfigMap or Secret key, or http)' });
  if (r.uriTemplate !== undefined) {
    if (r.http === undefined) out.push({ path: at('uriTemplate'), message: 'a uriTemplate needs http content' });
    let vars: string[] | undefined;
    try {
      vars = parseTemplate(r.uriTemplate, false).names;
    } catch (e) {
      out.push({ path: at('uriTemplate'), message: (e as Error).message });
    }
    if (vars && r.http) for (const m of templateIssues(r.http.url, false, vars)) out.push({ path: at('http.path'), message: m });
  } else if (r.http) {
    for (const m of templateIssues(r.http.url, false, [])) out.push({ path: at('http.path'), message: m });
  }
  return out;
}

/** Every problem of a whole catalog, plus names declared twice. */
export function catalogIssues(c: AgentCatalog): Issue[] {
  const out: Issue[] = [];
  const twice = (kind: string, keys: (string | undefined)[]) => {
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (k === undefined) return;
      if (seen.has(k)) out.push({ path: `catalog.${kind}[${i}]`, message: `${JSON.stringify(k)} is declared twice` });
      seen.add(k);
    });
  };
  c.tools?.forEach((t, i) => out.push(...toolIssues(t, `catalog.tools[${i}]`)));
  c.prompts?.forEach((p, i) => out.push(...promptIssues(p, `catalog.prompts[${i}]`)));
  c.resources?.forEach((r, i) => out.push(...resourceIssues(r, `catalog.resources[${i}]`)));
  twice('tools', (c.tools ?? []).map((t) => t.name));
  twice('prompts', (c.prompts ?? []).map((p) => p.name));
  twice('resources', (c.resources ?? []).map((r) => r.uri ?? r.uriTemplate));
  return out;
}
