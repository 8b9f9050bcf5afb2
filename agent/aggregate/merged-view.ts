// The merged view of several backends' lists: what clients are offered under which name, and the
// routing table back to (backend, original name). Pure: rebuilt from the backends' last lists
// whenever one changes (a few hundred entries; cheaper than keeping it incrementally right).
import type { AgentBackend, AggregateSettings } from '../../api/agent-backends.js';
import { TOOL_META_BACKEND } from '../../api/agent-constants.js';

export type Kind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
export const KINDS: readonly Kind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

/** The list method of each kind, and the kind of each list method. */
export const LIST_METHOD: Record<Kind, string> = { tools: 'tools/list', prompts: 'prompts/list', resources: 'resources/list', resourceTemplates: 'resources/templates/list' };
export const KIND_OF_LIST: Record<string, Kind> = Object.fromEntries(KINDS.map((k) => [LIST_METHOD[k], k]));
/** The list_changed notification that covers a kind (templates are announced as resources). */
export const LIST_CHANGED: Record<Kind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};
/** The member of each kind's entries that identifies them. */
const KEY: Record<Kind, string> = { tools: 'name', prompts: 'name', resources: 'uri', resourceTemplates: 'uriTemplate' };

export type Entry = Record<string, unknown>;

export interface BackendView {
  name: string;
  priority?: number;
  toolsFilter?: readonly string[];
  rename?: Readonly<Record<string, string>>;
  descriptions?: Readonly<Record<string, string>>;
  lists: Partial<Record<Kind, readonly unknown[]>>;
}

/** Where an offered name goes: the backend and the name the backend knows it by. */
export interface Route {
  backend: string;
  name: string;
}

export interface MergedView {
  lists: Record<Kind, Entry[]>;
  tools: Map<string, Route>;
  prompts: Map<string, Route>;
  /** Resource URI → backend. */
  resources: Map<string, string>;
  /** URI template → backend, in priority order (reads of URIs no list names). */
  templates: Array<{ backend: string; uriTemplate: string; match: RegExp }>;
  /** Names (or URIs) two backends both claimed, and entries skipped as malformed: for logs and /readyz. */
  problems: string[];
}

/** Backends in the order they win a name: higher priority first, then as listed. */
function byPriority<T extends { priority?: number }>(backends: readonly T[]): T[] {
  return backends.map((b, i) => ({ b, i })).sort((x, y) => (y.b.priority ?? 0) - (x.b.priority ?? 0) || x.i - y.i).map((x) => x.b);
}

/** The name a tool or prompt is offered under. */
export function offeredName(backend: BackendView, kind: 'tools' | 'prompts', name: string, settings: Pick<AggregateSettings, 'collision' | 'separator'>): string {
  const renamed = kind === 'tools' ? backend.rename?.[name] : undefined;
  if (renamed !== undefined) return renamed;
  return settings.collision === 'prefix' ? `${backend.name}${settings.separator}${name}` : name;
}

export function buildMergedView(backends: readonly BackendView[], settings: Pick<AggregateSettings, 'collision' | 'separator'>): MergedView {
  const view: MergedView = {
    lists: { tools: [], prompts: [], resources: [], resourceTemplates: [] },
    tools: new Map(),
    prompts: new Map(),
    resources: new Map(),
    templates: [],
    problems: [],
  };
  const owner = new Map<string, string>(); // `${kind} ${offered}` → backend that won it
  for (const b of byPriority(backends)) {
    const filter = b.toolsFilter && new Set(b.toolsFilter);
    for (const kind of KINDS) {
      const list = b.lists[kind];
      if (!list) continue;
      list.forEach((raw, i) => {
        const key = (raw as Entry | null)?.[KEY[kind]];
        if (raw === null || typeof raw !== 'object' || typeof key !== 'string' || key === '') {
          view.problems.push(`${b.name}: ${kind}[${i}] has no ${KEY[kind]} (skipped)`);
          return;
        }
        const entry = raw as Entry;
        if (kind === 'tools' && filter && !filter.has(key)) return;
        const offered = kind === 'tools' || kind === 'prompts' ? offeredName(b, kind, key, settings) : key;
        const claim = `${kind} ${offered}`;
        const winner = owner.get(claim);
        if (winner !== undefined) {
          if (winner !== b.name) view.problems.push(`${kind} ${offered}: offered by ${winner}, also by ${b.name} (theirs hidden)`);
          return;
        }
        owner.set(claim, b.name);
        switch (kind) {
          case 'tools': {
            const description = b.descriptions?.[key];
            const meta = entry._meta !== null && typeof entry._meta === 'object' ? entry._meta : {};
            view.lists.tools.push({ ...entry, name: offered, ...(description !== undefined ? { description } : {}), _meta: { ...meta, [TOOL_META_BACKEND]: b.name } });
            view.tools.set(offered, { backend: b.name, name: key });
            break;
          }
          case 'prompts':
            view.lists.prompts.push(offered === key ? entry : { ...entry, name: offered });
            view.prompts.set(offered, { backend: b.name, name: key });
            break;
          case 'resources':
            view.lists.resources.push(entry);
            view.resources.set(key, b.name);
            break;
          case 'resourceTemplates':
            view.lists.resourceTemplates.push(entry);
            view.templates.push({ backend: b.name, uriTemplate: key, match: templatePattern(key) });
            break;
        }
      });
    }
  }
  return view;
}

/** The backend that serves a resource URI: the one that listed it, else the first whose template matches. */
export function resourceOwner(view: MergedView, uri: string): string | undefined {
  return view.resources.get(uri) ?? view.templates.find((t) => t.uriTemplate === uri || t.match.test(uri))?.backend;
}

/**
 * A URI template (RFC 6570) as a pattern that accepts any expansion: literals verbatim, each
 * expression as anything. Coarse on purpose: it only decides ownership, the backend checks the rest.
 */
export function templatePattern(template: string): RegExp {
  const literals = template.split(/\{[^}]*\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literals.join('.*')}$`, 's');
}

/** The merge-relevant part of a backend's configuration. */
export function viewOf(spec: AgentBackend, lists: BackendView['lists']): BackendView {
  return { name: spec.name, priority: spec.priority, toolsFilter: spec.toolsFilter, rename: spec.rename, descriptions: spec.descriptions, lists };
}
