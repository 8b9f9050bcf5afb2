// Filters stage: which MCP feature sets are on (`capabilities`), which tools exist for clients
// (`toolsFilter`, read-only mode from the server's tool annotations), and the MCP method table the
// pipeline routes on. A hidden tool is indistinguishable from one the server does not have.
import type { Feature } from '../authz/index.js';

export interface FilterOptions {
  /** Only these tools are listed and callable (exact names). Unset: all. */
  toolsFilter?: readonly string[];
  /** Feature sets; a set that is off is removed from `initialize` and its methods are "method not found". Unset: all on. */
  capabilities?: { tools?: boolean; resources?: boolean; prompts?: boolean };
  /** Only tools the server annotates `readOnlyHint: true` are listed and callable. */
  readOnly?: boolean;
}

/**
 * How each client→server method meets policy:
 * - `bypass`: no policy decision (protocol plumbing): initialize, ping, notifications/*, logging/setLevel,
 *   server/discover, subscriptions/listen.
 * - `list`: allowed (unless a policy names the list action) and the result filtered per item.
 * - `item`: one tool/prompt/resource, authorized with its arguments.
 * - `complete`: completion/complete, authorized as the prompt/resource it completes for.
 * Anything else is denied while Cedar authorization is on (as ToolHive does).
 */
export type MethodKind = 'bypass' | 'list' | 'item' | 'complete';
export interface MethodSpec {
  kind: MethodKind;
  feature?: Feature;
}

export const METHODS: ReadonlyMap<string, MethodSpec> = new Map<string, MethodSpec>([
  ['initialize', { kind: 'bypass' }],
  ['ping', { kind: 'bypass' }],
  ['logging/setLevel', { kind: 'bypass' }],
  ['server/discover', { kind: 'bypass' }],
  ['subscriptions/listen', { kind: 'bypass' }],
  ['tools/list', { kind: 'list', feature: 'tool' }],
  ['tools/call', { kind: 'item', feature: 'tool' }],
  ['prompts/list', { kind: 'list', feature: 'prompt' }],
  ['prompts/get', { kind: 'item', feature: 'prompt' }],
  ['resources/list', { kind: 'list', feature: 'resource' }],
  ['resources/templates/list', { kind: 'list', feature: 'resource' }],
  ['resources/read', { kind: 'item', feature: 'resource' }],
  ['resources/subscribe', { kind: 'item', feature: 'resource' }],
  ['resources/unsubscribe', { kind: 'item', feature: 'resource' }],
  ['completion/complete', { kind: 'complete' }],
]);
const BYPASS: MethodSpec = { kind: 'bypass' };

export function methodSpec(method: string): MethodSpec | undefined {
  return METHODS.get(method) ?? (method.startsWith('notifications/') ? BYPASS : undefined);
}

const CAPABILITY_KEY = { tool: 'tools', prompt: 'prompts', resource: 'resources' } as const;

export class Filters {
  private readonly allowedTools: ReadonlySet<string> | undefined;
  private readonly enabled: Record<Feature, boolean>;
  readonly readOnly: boolean;
  private annotations = new Map<string, Readonly<Record<string, unknown>>>();
  /** True when some filter can hide a tool or a feature: lets the hot path skip work. */
  readonly active: boolean;

  constructor(o: FilterOptions = {}) {
    this.allowedTools = o.toolsFilter ? new Set(o.toolsFilter) : undefined;
    const c = o.capabilities;
    // Defaults of the MCPServer API when `capabilities` is given: tools on, resources and prompts off.
    this.enabled = c ? { tool: c.tools ?? true, resource: c.resources ?? false, prompt: c.prompts ?? false } : { tool: true, resource: true, prompt: true };
    this.readOnly = o.readOnly === true;
    this.active = this.allowedTools !== undefined || this.readOnly || !this.enabled.tool || !this.enabled.prompt || !this.enabled.resource;
  }

  featureEnabled(f: Feature): boolean {
    return this.enabled[f];
  }

  /** Remembers the server's tool annotations (from its tools/list). */
  setAnnotations(tools: readonly unknown[]): void {
    const m = new Map<string, Readonly<Record<string, unknown>>>();
    for (const t of tools) {
      if (t === null || typeof t !== 'object') continue;
      const { name, annotations } = t as { name?: unknown; annotations?: unknown };
      if (typeof name === 'string' && annotations !== null && typeof annotations === 'object') m.set(name, annotations as Record<string, unknown>);
    }
    this.annotations = m;
  }

  /** The server's annotations of a tool (from its last tools/list), undefined when it gave none. */
  annotationsOf(name: string): Readonly<Record<string, unknown>> | undefined {
    return this.annotations.get(name);
  }

  /** Listed and callable, as far as toolsFilter and read-only mode go. */
  toolVisible(name: string): boolean {
    if (this.allowedTools !== undefined && !this.allowedTools.has(name)) return false;
    if (this.readOnly && this.annotations.get(name)?.readOnlyHint !== true) return false;
    return true;
  }

  /** `initialize` / `server/discover` result with the capabilities of disabled feature sets removed (a copy; the input is not changed). */
  reduceCapabilities(result: Record<string, unknown>): Record<string, unknown> {
    const caps = result.capabilities as Record<string, unknown> | undefined;
    if (!caps || typeof caps !== 'object') return result;
    let out: Record<string, unknown> | undefined;
    for (const f of ['tool', 'prompt', 'resource'] as const) {
      const key = CAPABILITY_KEY[f];
      if (!this.enabled[f] && key in caps) {
        out ??= { ...caps };
        delete out[key];
      }
    }
    return out ? { ...result, capabilities: out } : result;
  }
}
