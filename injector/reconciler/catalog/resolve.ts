// A server's catalog: the declarative objects its selectors match (in its namespace; a
// ClusterMCPServer's in the operator namespace), each resolved (items.ts); the invalid ones left
// out, a name declared twice served from the oldest object only. What the server reconcile puts
// into the agent config, the Secret keys it copies into the catalog Secret, and each selected
// object's verdict for the objects' own status.
import type { AgentCatalog, CatalogPrompt, CatalogResource, CatalogTool } from '../../../api/agent-catalog.js';
import { CATALOG_KINDS, type CatalogKind } from '../../../api/v1beta1/catalog.js';
import { objKey } from '../kit/types.js';
import type { Lookup, Reference } from '../resolve.js';
import { resolveItem, type CatalogItem, type ResolvedItem, type SecretFile } from './items.js';
import { matches, type CatalogSelectorSet } from './selectors.js';

export const KINDS = Object.keys(CATALOG_KINDS) as CatalogKind[];

/** What one server does with one object it selects. */
export type Verdict = { served: true } | { served: false; reason: 'Invalid' } | { served: false; reason: 'NameConflict'; winner: string };

export interface ServerCatalog {
  catalog: AgentCatalog;
  secrets: SecretFile[];
  /** Object key (`MCPTool/ns/name`) → verdict, for every selected object. */
  verdicts: Map<string, Verdict>;
  references: Reference[];
}

/** The objects of one kind in the server's namespace (the informer caches). */
export type ListItems = (kind: CatalogKind, namespace: string) => readonly CatalogItem[];

const age = (o: CatalogItem) => `${o.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp as unknown as string).toISOString() : ''}/${o.metadata.name}`;

export async function resolveServerCatalog(selectors: CatalogSelectorSet, namespace: string, list: ListItems, lookup: Lookup, clusterDomain: string): Promise<ServerCatalog> {
  const catalog: AgentCatalog = {};
  const secrets = new Map<string, SecretFile>();
  const verdicts = new Map<string, Verdict>();
  const references: Reference[] = [];
  for (const kind of KINDS) {
    const selector = selectors[kind];
    if (!selector) continue;
    // Oldest first (then by name): the first object to take a name keeps it.
    const selected = list(kind, namespace).filter((o) => matches(selector, o.metadata.labels)).sort((a, b) => age(a).localeCompare(age(b)));
    const taken = new Map<string, string>();
    const forms: ResolvedItem['form'][] = [];
    for (const o of selected) {
      const key = objKey(kind, o.metadata.namespace, o.metadata.name!);
      const r = await resolveItem(kind, o, lookup, clusterDomain);
      references.push(...r.references);
      if (!r.form) {
        verdicts.set(key, { served: false, reason: 'Invalid' });
        continue;
      }
      const winner = taken.get(r.identity);
      if (winner) {
        verdicts.set(key, { served: false, reason: 'NameConflict', winner });
        continue;
      }
      taken.set(r.identity, `${o.metadata.namespace}/${o.metadata.name}`);
      verdicts.set(key, { served: true });
      forms.push(r.form);
      for (const s of r.secrets) secrets.set(s.file, s);
    }
    // A selected kind is declared even with no items yet: the agent's capabilities are fixed when
    // its server initializes, so the first object of a kind must not need a restart.
    if (kind === 'MCPTool') catalog.tools = forms as CatalogTool[];
    else if (kind === 'MCPPrompt') catalog.prompts = forms as CatalogPrompt[];
    else catalog.resources = forms as CatalogResource[];
  }
  return { catalog, secrets: [...secrets.values()], verdicts, references };
}
