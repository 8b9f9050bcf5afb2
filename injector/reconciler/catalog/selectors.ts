// Which declarative objects a server selects: its label selectors (promptSelector and
// resourceSelector default to toolSelector), evaluated as meta/v1 LabelSelectors.
import type { CatalogKind } from '../../../api/v1beta1/catalog.js';
import type { LabelSelector } from '../../../api/v1beta1/core.js';
import type { MCPServerSpec } from '../../../api/v1beta1/mcpserver.js';

export type CatalogSelectorSet = Partial<Record<CatalogKind, LabelSelector>>;

/** The server's selector per kind; empty when it has none (then it has no catalog). */
export function serverSelectors(spec: Pick<MCPServerSpec, 'toolSelector' | 'promptSelector' | 'resourceSelector'>): CatalogSelectorSet {
  const out: CatalogSelectorSet = {};
  if (spec.toolSelector) out.MCPTool = spec.toolSelector;
  const prompts = spec.promptSelector ?? spec.toolSelector;
  if (prompts) out.MCPPrompt = prompts;
  const resources = spec.resourceSelector ?? spec.toolSelector;
  if (resources) out.MCPResource = resources;
  return out;
}

export const hasCatalog = (selectors: CatalogSelectorSet) => Object.keys(selectors).length > 0;

/** meta/v1 semantics: matchLabels and every expression must hold; an empty selector matches everything. */
export function matches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
