// The agent's catalog: the declared tools, prompts and resources it serves itself (config
// `catalog`, written by the reconciler from MCPTool / MCPPrompt / MCPResource objects). One
// instance per agent, shared by every upstream session's CatalogTransport; a reload replaces its
// contents in place and tells them what changed (list_changed, resources/updated).
import type { Logger } from 'pino';
import type { AgentCatalog } from '../../api/agent-catalog.js';
import { watchFiles, type FileWatch } from '../ops/file-watch.js';
import { DeclaredPrompt } from './prompts.js';
import { DeclaredResource } from './resources.js';
import { ResultCache } from './result-cache.js';
import { DeclaredTool } from './tools.js';

export interface CatalogChange {
  tools: boolean;
  prompts: boolean;
  resources: boolean;
  /** Fixed resources whose content changed (subscribers are told). */
  updated: string[];
}

export class Catalog {
  tools = new Map<string, DeclaredTool>();
  prompts = new Map<string, DeclaredPrompt>();
  resources: DeclaredResource[] = [];
  /** The kinds the config declares (even with no items yet): their capabilities are the server's. */
  kinds = new Set<'tools' | 'prompts' | 'resources'>();
  readonly cache = new ResultCache();
  private readonly listeners = new Set<(change: CatalogChange) => void>();
  private digests = new Map<string, string>();
  private watch: FileWatch | undefined;
  private spec: AgentCatalog = {};

  constructor(private readonly logger: Logger) {}

  /** Replaces the contents (validated by parseAgentConfig: templates parse, names are unique). */
  async replace(next: AgentCatalog | undefined): Promise<CatalogChange> {
    const spec = next ?? {};
    const was = this.spec;
    this.spec = spec;
    this.tools = new Map((spec.tools ?? []).map((t) => [t.name, new DeclaredTool(t)]));
    this.prompts = new Map((spec.prompts ?? []).map((p) => [p.name, new DeclaredPrompt(p)]));
    this.resources = (spec.resources ?? []).map((r) => new DeclaredResource(r));
    this.kinds = new Set((['tools', 'prompts', 'resources'] as const).filter((k) => spec[k] !== undefined));
    this.cache.clear();
    const change: CatalogChange = {
      tools: JSON.stringify(was.tools ?? []) !== JSON.stringify(spec.tools ?? []),
      prompts: JSON.stringify(was.prompts ?? []) !== JSON.stringify(spec.prompts ?? []),
      resources: JSON.stringify((was.resources ?? []).map(listingOf)) !== JSON.stringify((spec.resources ?? []).map(listingOf)),
      updated: await this.recheckContent(),
    };
    this.rewatch();
    this.emit(change);
    return change;
  }

  get size(): number {
    return this.tools.size + this.prompts.size + this.resources.length;
  }

  /** The resource that serves `uri` (a fixed URI first, then the templates in order) and the template's variables. */
  resourceFor(uri: string): { resource: DeclaredResource; vars: Record<string, string> } | undefined {
    let templated: { resource: DeclaredResource; vars: Record<string, string> } | undefined;
    for (const resource of this.resources) {
      const vars = resource.variables(uri);
      if (vars === undefined) continue;
      if (!resource.templated) return { resource, vars };
      templated ??= { resource, vars };
    }
    return templated;
  }

  onChange(fn: (change: CatalogChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.watch?.close();
    this.listeners.clear();
  }

  private emit(change: CatalogChange): void {
    if (!change.tools && !change.prompts && !change.resources && change.updated.length === 0) return;
    this.logger.info(
      { tools: this.tools.size, prompts: this.prompts.size, resources: this.resources.length, updated: change.updated.length ? change.updated : undefined },
      'catalog changed: clients are told',
    );
    for (const fn of this.listeners) fn(change);
  }

  /** Fixed resources whose content digest changed since the last look. */
  private async recheckContent(): Promise<string[]> {
    const next = new Map<string, string>();
    for (const r of this.resources) {
      if (r.templated) continue;
      const d = await r.digest();
      if (d !== undefined) next.set(r.key, d);
    }
    const updated = [...next].filter(([uri, d]) => this.digests.has(uri) && this.digests.get(uri) !== d).map(([uri]) => uri);
    this.digests = next;
    return updated;
  }

  /** Content from mounted Secret files: a change of the files is a content change (the kubelet swaps them in place). */
  private rewatch(): void {
    this.watch?.close();
    const files = (this.spec.resources ?? []).map((r) => r.file).filter((f): f is string => f !== undefined);
    this.watch = files.length
      ? watchFiles(files, () => void this.recheckContent().then((updated) => this.emit({ tools: false, prompts: false, resources: false, updated })), { logger: this.logger, what: 'catalog resource files' })
      : undefined;
  }
}

function listingOf(r: NonNullable<AgentCatalog['resources']>[number]): unknown {
  return [r.uri, r.uriTemplate, r.name, r.title, r.description, r.mimeType];
}
