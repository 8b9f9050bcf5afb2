// A declared tool: its listing, and a call — arguments checked against the inputSchema, the HTTP
// request built from the templates, the answer mapped to MCP content. Every failure is a tool
// result with isError (the model sees why), never a protocol error or a crash.
import type { CatalogTool } from '../../api/agent-catalog.js';
import { durationToMs } from '../../api/v1beta1/defaults.js';
import { parseTemplate, render, type ParsedTemplate } from '../../api/templates.js';
import { exchange, isJson, MissingArgument, renderUrlTemplate, resolveHeaders, type HttpAnswer } from './http.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TEXT = 1_000_000;
const DEFAULT_INPUT_SCHEMA = { type: 'object' };

type SchemaChecker = (typeof import('typebox/value'))['Value'];
let checker: Promise<SchemaChecker> | undefined;
/** typebox's checker, loaded by the first call of a declared tool: an agent without a catalog never loads it. */
const schemaChecker = () => (checker ??= import('typebox/value').then((m) => m.Value));

export type ToolResult = Record<string, unknown>;

export class DeclaredTool {
  readonly name: string;
  readonly listing: Record<string, unknown>;
  /** Results may be served again for this long (readOnly and idempotent tools with a cacheTtl); 0: never. */
  readonly cacheTtlMs: number;
  private readonly url: ParsedTemplate;
  private readonly query: Array<{ name: string; value: ParsedTemplate }> | undefined;
  private readonly body: ParsedTemplate | undefined;
  /** Arguments the path and query use: the rest go to the default body (or query, on GET/DELETE). */
  private readonly placed: Set<string>;

  constructor(private readonly spec: CatalogTool) {
    this.name = spec.name;
    this.listing = {
      name: spec.name,
      ...(spec.title !== undefined ? { title: spec.title } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      inputSchema: spec.inputSchema ?? DEFAULT_INPUT_SCHEMA,
      ...(spec.outputSchema !== undefined ? { outputSchema: spec.outputSchema } : {}),
      ...(spec.annotations !== undefined ? { annotations: spec.annotations } : {}),
    };
    const a = spec.annotations;
    this.cacheTtlMs = spec.cacheTtl && a?.readOnlyHint && a.idempotentHint ? durationToMs(spec.cacheTtl) : 0;
    // Checked by catalogIssues before a catalog is accepted: these parse.
    this.url = parseTemplate(spec.http.url, false);
    this.query = spec.http.query?.map((q) => ({ name: q.name, value: parseTemplate(q.value, false) }));
    this.body = spec.http.bodyTemplate === undefined ? undefined : parseTemplate(spec.http.bodyTemplate, true);
    this.placed = new Set([...this.url.names, ...(this.query ?? []).flatMap((q) => q.value.names)]);
  }

  get source(): string | undefined {
    return this.spec.source;
  }

  async call(args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult> {
    const Value = await schemaChecker();
    const schema = this.spec.inputSchema ?? DEFAULT_INPUT_SCHEMA;
    if (!Value.Check(schema, args)) {
      const problems = [...Value.Errors(schema, args)].slice(0, 5).map((e) => `${e.instancePath || '(arguments)'} ${e.message}`);
      return toolError(`Invalid arguments for ${this.name}: ${problems.join('; ')}`);
    }
    const h = this.spec.http;
    let url: string;
    let body: string | undefined;
    try {
      url = this.requestUrl(args);
      body = this.requestBody(args);
    } catch (e) {
      if (e instanceof MissingArgument) return toolError(`${this.name}: ${e.message}`);
      throw e;
    }
    let answer: HttpAnswer;
    try {
      const headers = await resolveHeaders(h.headers);
      if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      const timeout = h.timeout ? durationToMs(h.timeout) : DEFAULT_TIMEOUT_MS;
      const retries = this.spec.annotations?.idempotentHint ? h.retries : 0;
      answer = await exchange(url, { method: h.method, headers, ...(body !== undefined ? { body } : {}) }, { deadlineMs: timeout, retries, signal });
    } catch (e) {
      return toolError(`${this.name}: the call to its endpoint failed: ${(e as Error).message}`);
    }
    return this.toResult(answer, Value);
  }

  private requestUrl(args: Record<string, unknown>): string {
    const u = new URL(renderUrlTemplate(this.url, args));
    const method = this.spec.http.method;
    if (this.query) {
      for (const q of this.query) u.searchParams.append(q.name, decodeURIComponent(renderUrlTemplate(q.value, args)));
    } else if (method === 'GET' || method === 'DELETE') {
      for (const [k, v] of Object.entries(args)) if (!this.placed.has(k) && v !== undefined) u.searchParams.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return u.toString();
  }

  private requestBody(args: Record<string, unknown>): string | undefined {
    const method = this.spec.http.method;
    if (method === 'GET' || method === 'DELETE') return undefined;
    if (this.body) {
      return render(this.body, (name) => {
        if (args[name] === undefined) throw new MissingArgument(name);
        return JSON.stringify(args[name]);
      });
    }
    const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !this.placed.has(k)));
    return JSON.stringify(rest);
  }

  private toResult(a: HttpAnswer, Value: SchemaChecker): ToolResult {
    const text = a.body.toString('utf8', 0, Math.min(a.body.length, MAX_TEXT));
    if (a.status < 200 || a.status >= 300) {
      return toolError(`${this.name}: the endpoint answered HTTP ${a.status}${a.statusText ? ` ${a.statusText}` : ''}${text ? `: ${text.slice(0, 2000)}` : ''}`);
    }
    const mode = this.spec.http.response;
    if (mode === 'text' || (mode === 'auto' && !isJson(a.contentType))) return { content: [{ type: 'text', text }] };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return mode === 'json' ? toolError(`${this.name}: the endpoint did not answer JSON (${a.contentType || 'no content type'})`) : { content: [{ type: 'text', text }] };
    }
    const structured = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
    // A declared outputSchema is a promise to the client (the SDKs check it): keep it or say why not.
    const out = this.spec.outputSchema;
    if (out !== undefined && (!structured || !Value.Check(out, parsed))) {
      const why = structured ? [...Value.Errors(out, parsed)].slice(0, 3).map((e) => `${e.instancePath || '(result)'} ${e.message}`).join('; ') : 'not a JSON object';
      return toolError(`${this.name}: the endpoint's answer does not match the tool's outputSchema: ${why}`);
    }
    return { content: [{ type: 'text', text: JSON.stringify(parsed) }], ...(structured ? { structuredContent: parsed } : {}) };
  }
}

export function toolError(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
