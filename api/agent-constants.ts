// The plain values of the agent config contract (api/agent-config.ts has its schema): what the
// agent needs at start-up and per request without loading typebox, which it then loads only to
// validate a config file. The schema modules import these (and re-export them): one definition.
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_REDACTED_ARGUMENTS } from './v1beta1/defaults.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The config file's keys for how the agent process runs; each is also a flag and an `OME_MCP_*`
 * variable. api/agent-config.ts's AgentRuntimeSettings has a schema for each, exactly these.
 */
export const AGENT_RUNTIME_KEYS = [
  'host', 'port', 'opsPort', 'sessionMode', 'maxSessions', 'maxProcesses', 'sessionIdleTimeout', 'initializeTimeout',
  'allowedOrigins', 'allowedHosts', 'eventBuffer', 'shutdownTimeout', 'logLevel', 'tty', 'catalogOnly',
] as const;
export type AgentRuntimeKey = (typeof AGENT_RUNTIME_KEYS)[number];

/**
 * Sections the agent applies in place when its config file changes (policy, filters, OIDC): the
 * next request is judged by the new set. A change anywhere else (upstream, ports, limits, session
 * settings) takes a restart, so the reconciler's pod-template hash covers exactly the rest.
 */
export const RELOADABLE_KEYS = ['oidcConfig', 'authzConfig', 'toolsFilter', 'capabilities', 'readOnly', 'approval', 'argumentRules', 'scopes', 'resourceURL', 'audit', 'catalog'] as const;
const RELOADABLE = new Set<string>(RELOADABLE_KEYS);

/** The config split into what reloads in place and what needs a restart. */
export function splitReloadable(config: object): { reloadable: Record<string, unknown>; restart: Record<string, unknown> } {
  const reloadable: Record<string, unknown> = {};
  const restart: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) (RELOADABLE.has(k) ? reloadable : restart)[k] = v;
  return { reloadable, restart };
}

/**
 * `_`: valid in MCP tool names (`[A-Za-z0-9_.-]`) and in the function-name rules of the LLM APIs
 * clients hand tools to (`^[a-zA-Z0-9_-]{1,64}$`, which excludes `.`), and absent from backend names.
 */
export const DEFAULT_SEPARATOR = '_';

/**
 * `_meta` key of each tool the aggregate lists: the backend that serves it. Policy reads it (Cedar's
 * `resource.backend`); the aggregate sets it over whatever a backend claims.
 */
export const TOOL_META_BACKEND = 'ome.io/backend';

/**
 * What `parseAgentConfig({})` returns: the schema's defaults, for an agent with no policy at all
 * (no config file, no policy flags), which then need not load the validator. A unit test keeps
 * the two equal (api/agent-config.test.ts). Typed by inference: this module must not import the
 * schema (it would load typebox).
 */
export function emptyAgentConfig() {
  return {
    readOnly: false,
    limits: { requestTimeout: '30s', maxConcurrentRequests: 100, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
    audit: { enabled: true, includeArguments: false, redactArguments: [...DEFAULT_REDACTED_ARGUMENTS] },
  };
}
