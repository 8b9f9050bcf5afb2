// A declared resource: a fixed URI (inline text, a mounted Secret file, or an HTTP GET) or a URI
// template (RFC 6570 level 1, `{var}` one path segment) read over HTTP with its variables.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CatalogResource } from '../../api/agent-catalog.js';
import { durationToMs } from '../../api/v1beta1/defaults.js';
import { parseTemplate, type ParsedTemplate } from '../../api/templates.js';
import { exchange, isText, renderUrlTemplate, resolveHeaders } from './http.js';

const DEFAULT_TIMEOUT_MS = 30_000;

export class DeclaredResource {
  readonly key: string;
  readonly listing: Record<string, unknown>;
  private readonly match: RegExp | undefined;
  private readonly vars: string[] = [];
  private readonly url: ParsedTemplate | undefined;

  constructor(private readonly spec: CatalogResource) {
    this.key = spec.uri ?? spec.uriTemplate!;
    this.listing = {
      ...(spec.uri !== undefined ? { uri: spec.uri } : { uriTemplate: spec.uriTemplate }),
      name: spec.name,
      ...(spec.title !== undefined ? { title: spec.title } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      mimeType: spec.mimeType,
    };
    // Checked by catalogIssues before a catalog is accepted: these parse.
    if (spec.uriTemplate !== undefined) {
      const t = parseTemplate(spec.uriTemplate, false);
      this.vars = t.names;
      this.match = new RegExp(`^${t.parts.map((p) => (typeof p === 'string' ? escapeRegExp(p) : '([^/?#]+)')).join('')}$`);
    }
    if (spec.http) this.url = parseTemplate(spec.http.url, false);
  }

  get templated(): boolean {
    return this.match !== undefined;
  }

  get source(): string | undefined {
    return this.spec.source;
  }

  /** The template's variables when `uri` is one of this template's URIs (a fixed resource: {} for its own URI). */
  variables(uri: string): Record<string, string> | undefined {
    if (!this.match) return uri === this.spec.uri ? {} : undefined;
    const m = this.match.exec(uri);
    if (!m) return undefined;
    return Object.fromEntries(this.vars.map((v, i) => [v, safeDecode(m[i + 1]!)]));
  }

  /** A digest of the content that changes with it (inline and file sources: what subscribers are told about), else undefined. */
  async digest(): Promise<string | undefined> {
    if (this.spec.http) return undefined;
    const text = this.spec.text ?? (await readFile(this.spec.file!, 'utf8').catch(() => ''));
    return createHash('sha256').update(text).digest('base64url');
  }

  async read(uri: string, vars: Record<string, string>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const mimeType = this.spec.mimeType;
    if (this.spec.text !== undefined) return { contents: [{ uri, mimeType, text: this.spec.text }] };
    if (this.spec.file !== undefined) {
      const data = await readFile(this.spec.file);
      return { contents: [isText(mimeType) ? { uri, mimeType, text: data.toString('utf8') } : { uri, mimeType, blob: data.toString('base64') }] };
    }
    const h = this.spec.http!;
    const answer = await exchange(renderUrlTemplate(this.url!, vars), { method: 'GET', headers: await resolveHeaders(h.headers) }, {
      deadlineMs: h.timeout ? durationToMs(h.timeout) : DEFAULT_TIMEOUT_MS,
      retries: 1, // a GET: safe to try again
      signal,
    });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`the endpoint answered HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`);
    const type = answer.contentType.split(';')[0]!.trim() || mimeType;
    return { contents: [isText(type) ? { uri, mimeType: type, text: answer.body.toString('utf8') } : { uri, mimeType: type, blob: answer.body.toString('base64') }] };
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
