// Several MCP servers behind one agent endpoint ("backends", aggregated into one catalog). The
// agent config's `backends` and `aggregate` sections; the MCPGateway CRD reuses these
// sub-schemas (its reconciler writes them into the agent config it mounts). Not to be confused
// with agent/mux/gateway.ts, the per-agent session multiplexer.
import { Type, type Static } from 'typebox';
import { cel, StringEnum } from './v1beta1/schema.js';
import type { Issue } from './validate.js';

/**
 * A backend's name prefixes its tools and prompts (`<name><separator><tool>`) and names it in
 * logs, /readyz and errors. A DNS label, like the MCPServer it will name in a cluster: it never
 * contains `_`, so the default separator cannot make two different (backend, tool) pairs meet.
 */
export const BACKEND_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

import { DEFAULT_SEPARATOR } from './agent-constants.js';

export { DEFAULT_SEPARATOR, TOOL_META_BACKEND } from './agent-constants.js';
export const AGGREGATE_COLLISIONS = ['prefix', 'priority'] as const;
export const AGGREGATE_FAIL_MODES = ['open', 'closed'] as const;
export const BACKEND_TRANSPORTS = ['auto', 'streamable-http', 'sse'] as const;

const ToolName = Type.String({ minLength: 1, maxLength: 128 });

/**
 * What a backend offers of its tools: filter, renames, description overrides, rank. One set of
 * fields for the agent config's backends and the MCPGateway CRD's (api/v1beta1/mcpgateway.ts).
 */
export const BackendToolView = {
  toolsFilter: Type.Optional(Type.Array(ToolName, { description: 'Only these of its tools (original names) are offered.' })),
  rename: Type.Optional(
    Type.Record(Type.String(), ToolName, { description: 'Original tool name → the name offered, used as is (no prefix): the explicit way out of a collision.' }),
  ),
  descriptions: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Original tool name → the description offered instead of the server’s.' })),
  priority: Type.Optional(Type.Integer({ description: 'With collision: priority, the higher wins a name (default 0; on a tie the backend listed first).' })),
};

/**
 * With `identity` (per-session mode), each backend gets the caller's identity: in exchange mode a
 * token exchanged for this audience — the backend's own, so no backend holds a token another
 * accepts — in passthrough mode the caller's token unchanged.
 */
export const BackendAudience = Type.String({
  minLength: 1,
  description: "identity mode exchange: the audience of the caller's token exchanged for this backend (default identity.exchange.audience).",
});

export const AgentBackend = Type.Object(
  {
    name: Type.String({ pattern: BACKEND_NAME_PATTERN, description: 'The backend: prefix of its tools and prompts, and its name in logs, /readyz and errors (a DNS label).' }),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'A stdio server the agent starts: the command and its arguments.' })),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Environment of the command, over the agent’s own.' })),
    url: Type.Optional(Type.String({ pattern: '^https?://.*', description: 'An HTTP MCP server.' })),
    transport: Type.Optional(StringEnum(BACKEND_TRANSPORTS, { description: 'For url: auto (streamable HTTP, falling back to SSE), streamable-http or sse.' })),
    audience: Type.Optional(BackendAudience),
    ...BackendToolView,
  },
  {
    description: 'One MCP server behind the aggregate: a command the agent starts, or a URL.',
    ...cel({ rule: 'has(self.command) != has(self.url)', message: 'give exactly one of command and url' }, {
      rule: "has(self.transport) ? has(self.url) : true",
      message: 'transport is for url backends',
    }),
  },
);
export type AgentBackend = Static<typeof AgentBackend>;

export const AggregateSettings = Type.Object(
  {
    collision: StringEnum(AGGREGATE_COLLISIONS, {
      default: 'prefix',
      description: 'prefix: every tool and prompt is offered as <backend><separator><name>; priority: names as the servers give them, a clash won by the higher priority.',
    }),
    separator: Type.String({ default: DEFAULT_SEPARATOR, pattern: '^[A-Za-z0-9_.-]{1,8}$', description: 'Between the backend name and the tool name (characters valid in tool names).' }),
    failMode: StringEnum(AGGREGATE_FAIL_MODES, {
      default: 'open',
      description: 'open: a backend that is down loses its tools, the rest are served and the agent is ready; closed: its tools stay listed and answer an error, and the agent is not ready until every backend is up.',
    }),
  },
  { description: 'How the backends are merged into one catalog.' },
);
export type AggregateSettings = Static<typeof AggregateSettings>;

/**
 * One backend as the agent's ops endpoint `/readyz` reports it (`backends[]`, backends mode): the
 * agent writes it (agent/aggregate/backend.ts), the MCPGateway reconciler reads it into the status.
 */
export interface AgentBackendHealth {
  name: string;
  /** Connected and listed. */
  up: boolean;
  /** Why not, or the state of the session. */
  detail: string;
  /** serverInfo.name of the backend, once initialized. */
  server?: unknown;
  /** How many tools it lists (its own list, before the backend's filter). */
  tools: number;
  restarts: number;
}

/** Checks a schema cannot express: unique backend names. */
export function backendIssues(backends: readonly AgentBackend[]): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  backends.forEach((b, i) => {
    if (seen.has(b.name)) out.push({ path: `backends[${i}].name`, message: `duplicates backend ${b.name}` });
    seen.add(b.name);
  });
  return out;
}
