// The HTTP side of declared tools and resources: building the request from a template and the
// arguments, the headers (values from mounted Secret files, read at each call so a rotated Secret
// is used at once), a deadline for the whole call, and retries for idempotent tools.
import { readFile } from 'node:fs/promises';
import type { CatalogHeader } from '../../api/agent-catalog.js';
import { render, type ParsedTemplate } from '../../api/templates.js';

export interface HttpAnswer {
  status: number;
  statusText: string;
  contentType: string;
  body: Buffer;
}

/** `{name}` placeholders URL-encoded; a missing value is an error the caller turns into a tool error. */
export function renderUrlTemplate(t: ParsedTemplate, values: Record<string, unknown>): string {
  return render(t, (name) => {
    const v = values[name];
    if (v === undefined || v === null) throw new MissingArgument(name);
    return encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v));
  });
}

export class MissingArgument extends Error {
  constructor(readonly argument: string) {
    super(`argument "${argument}" is required by the request template`);
  }
}

/** The headers, literal or from their files. Errors name the header, never its value. */
export async function resolveHeaders(headers: readonly CatalogHeader[] | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const h of headers ?? []) {
    let value = h.value ?? '';
    if (h.file !== undefined) {
      try {
        value = (await readFile(h.file, 'utf8')).trim();
      } catch (e) {
        throw new Error(`header ${h.name}: cannot read its Secret file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    out[h.name] = `${h.prefix ?? ''}${value}`;
  }
  return out;
}

const RETRYABLE = new Set([502, 503, 504]);

/**
 * One HTTP exchange within `deadlineMs`, retried `retries` times after a connection error or a
 * 502/503/504 (only idempotent tools get retries). `signal` aborts it (the client cancelled).
 */
export async function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  options: { deadlineMs: number; retries: number; signal?: AbortSignal },
): Promise<HttpAnswer> {
  const until = Date.now() + options.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    const left = until - Date.now();
    if (left <= 0) throw new Error(`no answer within ${options.deadlineMs} ms`);
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(left)]) : AbortSignal.timeout(left);
    try {
      const res = await fetch(url, { ...init, signal, redirect: 'manual' });
      const answer = { status: res.status, statusText: res.statusText, contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
      if (!RETRYABLE.has(res.status) || attempt >= options.retries) return answer;
    } catch (e) {
      if (options.signal?.aborted) throw new Error('cancelled');
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError' || attempt >= options.retries) {
        throw new Error(err.name === 'TimeoutError' ? `no answer within ${options.deadlineMs} ms` : `cannot reach ${new URL(url).host}: ${err.cause?.code ?? err.message}`);
      }
    }
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, Math.max(0, until - Date.now()))));
  }
}

export function isJson(contentType: string): boolean {
  return /^application\/([\w.+-]*\+)?json\b/i.test(contentType);
}

export function isText(contentType: string): boolean {
  return contentType === '' || /^text\/|^application\/([\w.+-]*\+)?(json|xml|yaml|x-yaml|javascript)\b/i.test(contentType);
}
