// A credentials file from a mounted Secret (API keys, Basic users): parsed at start (a bad file
// stops the agent with the file named), re-read when the Secret rotates (a bad new version is
// logged and the last good set stays). Error messages name the file and the entry, never its
// content: the files hold hashes, which must not reach a log line.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { watchFiles, type FileWatch } from '../../ops/file-watch.js';

export class CredentialsFileError extends Error {}

/** An entry's problem, by index; the parser throws it. */
export function entryError(i: number, message: string): CredentialsFileError {
  return new CredentialsFileError(`entry ${i}: ${message}`);
}

/** A YAML or JSON list of objects, or a CredentialsFileError that quotes nothing from it. */
function readList(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CredentialsFileError(`cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false });
  } catch (e) {
    // The parser's own message quotes the offending line: only its position is kept.
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new CredentialsFileError(`not valid YAML or JSON${line ? ` (line ${line})` : ''}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new CredentialsFileError('must be a list of entries');
  doc.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw entryError(i, 'must be an object');
  });
  return doc as Record<string, unknown>[];
}

/** `groups` of an entry: absent, or a list of non-empty strings. */
export function groupsOf(e: Record<string, unknown>, i: number): string[] {
  const g = e.groups;
  if (g === undefined) return [];
  if (!Array.isArray(g) || !g.every((x) => typeof x === 'string' && x !== '')) throw entryError(i, 'groups must be a list of names');
  return g as string[];
}

export interface CredentialsFileOptions {
  logger: Logger;
  /** For log lines: "API keys", "Basic users". */
  what: string;
  /** Watch the file's directory and reload on change (default true). */
  watch?: boolean;
  debounceMs?: number;
  /** After a successful reload (e.g. drop caches). */
  onReload?: () => void;
}

export class CredentialsFile<T> {
  private value: T;
  private watcher: FileWatch | undefined;

  constructor(
    readonly path: string,
    private readonly parse: (entries: Record<string, unknown>[]) => T,
    private readonly o: CredentialsFileOptions,
  ) {
    try {
      this.value = parse(readList(path));
    } catch (e) {
      throw new Error(`authentication: ${o.what} file ${path}: ${(e as Error).message}`);
    }
    if (o.watch !== false) this.watcher = watchFiles([path], () => this.reload(), { logger: o.logger, what: o.what, debounceMs: o.debounceMs });
  }

  get current(): T {
    return this.value;
  }

  /** Re-reads the file: true when the new set is in use. */
  reload(): boolean {
    let next: T;
    try {
      next = this.parse(readList(this.path));
    } catch (e) {
      this.o.logger.error({ file: this.path, err: (e as Error).message }, `${this.o.what} reload failed; keeping the previous set`);
      return false;
    }
    this.value = next;
    this.o.onReload?.();
    this.o.logger.info({ file: this.path }, `${this.o.what} reloaded`);
    return true;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
