// The agent's policy configuration. It reuses the MCPServer API's sub-schemas (OIDC, Cedar,
// toolsFilter, capabilities) so that what a user writes in an MCPServer is what the agent reads:
// the reconciler copies spec fields into this structure (resolving ConfigMap/Secret references it
// can check), and the webhook-injected agent reads the same structure from a ConfigMap.
import { Type, type Static } from 'typebox';
import {
  ConfigMapAuthzRef,
  InlineAuthzConfig,
  MCPCapabilities,
  MCP_TRANSPORT_TYPES,
  OIDCConfigRef,
} from './v1beta1/mcpserver.js';
import { AgentAuthentication } from './agent-authentication.js';
import { authMethodIssues } from './v1beta1/authentication.js';
import { AgentAudit, AgentLimits, Approval, ArgumentRule, DURATION_PATTERN, durationToMs, SESSION_MODES } from './v1beta1/operations.js';
import { AgentIdentity } from './v1beta1/identity.js';
import { cel, StringEnum } from './v1beta1/schema.js';
import { check, joinPath, ValidationError, type Issue } from './validate.js';
import { AgentEgress, allowHostIssues } from './egress.js';
import { AgentCatalog } from './agent-catalog.js';
import { catalogIssues } from './catalog-checks.js';
import { AgentBackend, AggregateSettings, backendIssues } from './agent-backends.js';
import { LOG_LEVELS, type AgentRuntimeKey } from './agent-constants.js';

export { AGENT_RUNTIME_KEYS, LOG_LEVELS, RELOADABLE_KEYS, splitReloadable } from './agent-constants.js';

export { ValidationError, type Issue } from './validate.js';
export {
  AgentAudit,
  AgentLimits,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REDACTED_ARGUMENTS,
  DURATION_PATTERN,
  durationToMs,
  PrincipalLimits,
  SESSION_MODES,
} from './v1beta1/operations.js';



/** Cedar policies/entities read from files (e.g. a mounted ConfigMap); reloaded when they change. */
export const FileAuthzConfig = Type.Object(
  {
    policyPaths: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Files or directories (every *.cedar file) holding Cedar policies.',
    }),
    entitiesPath: Type.Optional(Type.String({ minLength: 1, description: 'File holding Cedar entities as a JSON array.' })),
  },
  { description: 'Cedar policies and entities from files.' },
);
export type FileAuthzConfig = Static<typeof FileAuthzConfig>;

export const AGENT_AUTHZ_TYPES = ['inline', 'configMap', 'file'] as const;
/**
 * AuthzConfigRef of the API plus a `file` source. `configMap` means the agent reads (and watches)
 * the ConfigMap in its own namespace through the API server.
 */
export const AgentAuthzConfig = Type.Object(
  {
    type: StringEnum(AGENT_AUTHZ_TYPES, { default: 'inline', description: 'Where the Cedar policies come from.' }),
    inline: Type.Optional(InlineAuthzConfig),
    configMap: Type.Optional(ConfigMapAuthzRef),
    file: Type.Optional(FileAuthzConfig),
  },
  cel(
    { rule: "self.type == 'inline' ? has(self.inline) : true", message: 'inline is required for inline authorization configuration' },
    { rule: "self.type == 'configMap' ? has(self.configMap) : true", message: 'configMap is required for configMap authorization configuration' },
    { rule: "self.type == 'file' ? has(self.file) : true", message: 'file is required for file authorization configuration' },
  ),
);
export type AgentAuthzConfig = Static<typeof AgentAuthzConfig>;



export const AgentUpstream = Type.Object(
  {
    transport: StringEnum(MCP_TRANSPORT_TYPES, { default: 'stdio', description: 'Transport the upstream MCP server speaks.' }),
    url: Type.Optional(Type.String({ pattern: '^https?://.*', description: 'HTTP upstream (local targetPort or Remote URL).' })),
    command: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'Stdio upstream started by the agent itself (local use): the command and its arguments.' }),
    ),
    headers: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String({ minLength: 1, description: 'Header name.' }),
          file: Type.String({ minLength: 1, description: 'File holding the value (a mounted Secret key); read at each connect, so a rotated Secret is used from the next one.' }),
          prefix: Type.Optional(Type.String({ description: 'Written before the file content, e.g. "Bearer ".' })),
        }),
        { description: 'Headers for every request to an HTTP upstream.' },
      ),
    ),
    clientCredentials: Type.Optional(
      Type.Object(
        {
          issuer: Type.String({ pattern: '^https?://.*', description: 'The authorization server the client was registered with (the secret goes to no other).' }),
          clientId: Type.String({ minLength: 1 }),
          clientSecretFile: Type.String({ minLength: 1, description: 'File holding the client secret (a mounted Secret key); read at each connect.' }),
          scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        },
        { description: 'OAuth 2 client credentials for an HTTP upstream that wants a bearer token (discovered from its RFC 9728 metadata).' },
      ),
    ),
  },
  {
    description:
      'The MCP server behind the agent. In a pod a stdio server is reached through the bridge the injector wires (--upstream-fifo / --upstream-attach); locally through `command` or the command after `--`.',
    ...cel({ rule: "self.transport == 'streamable-http' ? has(self.url) : true", message: 'url is required for an HTTP upstream' }, {
      rule: "self.transport == 'sse' ? has(self.url) : true",
      message: 'url is required for an HTTP upstream',
    }),
  },
);
export type AgentUpstream = Static<typeof AgentUpstream>;

/**
 * HTTPS for the agent's MCP port. The files are re-read when they change (a mounted Secret swaps a
 * `..data` symlink), so a rotated certificate is served without a restart.
 */
export const AgentTls = Type.Object(
  {
    certFile: Type.String({ minLength: 1, description: 'Certificate chain (PEM), leaf first.' }),
    keyFile: Type.String({ minLength: 1, description: 'Private key of the certificate (PEM).' }),
    clientCAFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'CA bundle (PEM): client certificates are requested (not required) and verified against it; authentication decides what a missing or unverified one means.',
      }),
    ),
  },
  { description: 'Serve HTTPS with this certificate.' },
);
export type AgentTls = Static<typeof AgentTls>;

const Seconds = (description: string, minimum = 0) => Type.Optional(Type.Number({ minimum, description }));

/**
 * How the agent process runs (listen address, sessions, timeouts, logs). Each is also a flag and an
 * `OME_MCP_*` variable of the same name (kebab-case / upper snake case), which override the file.
 */
export const AgentRuntimeSettings = {
  host: Type.Optional(Type.String({ minLength: 1, description: 'Address to listen on (127.0.0.1 locally, 0.0.0.0 in a pod).' })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Port of the MCP endpoints, and of the ops endpoints without opsPort (0: any free port).' })),
  opsPort: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'Port of /healthz, /readyz and /metrics alone (plain HTTP, for probes and Prometheus); the MCP port then answers 404 for them.' }),
  ),
  sessionMode: Type.Optional(StringEnum(SESSION_MODES, { description: 'shared: one server for all sessions; per-session: a process per session.' })),
  maxSessions: Type.Optional(Type.Integer({ minimum: 1, description: 'Client sessions allowed at once.' })),
  maxProcesses: Type.Optional(Type.Integer({ minimum: 1, description: 'Per-session mode: server processes allowed at once.' })),
  sessionIdleTimeout: Seconds('Seconds after which an idle session ends.', 1),
  initializeTimeout: Seconds('Seconds to wait for the server to answer initialize.', 0.001),
  allowedOrigins: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Origins allowed besides same-origin and loopback (* = any).' })),
  allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Host header values accepted besides the bind address and loopback names (* = any).' })),
  eventBuffer: Type.Optional(Type.Integer({ minimum: 0, description: 'SSE events kept per session for Last-Event-ID resumption.' })),
  shutdownTimeout: Seconds('Seconds to wait for in-flight requests on SIGTERM.'),
  logLevel: Type.Optional(StringEnum(LOG_LEVELS, { description: 'Log level.' })),
  tty: Type.Optional(Type.Boolean({ description: 'Run a stdio server under a pseudo-terminal.' })),
  catalogOnly: Type.Optional(Type.Boolean({ description: 'No MCP server: serve the catalog alone.' })),
} satisfies Record<AgentRuntimeKey, unknown>; // a schema for each AGENT_RUNTIME_KEYS entry and no other key

export const AgentConfig = Type.Object(
  {
    ...AgentRuntimeSettings,
    name: Type.Optional(Type.String({ description: 'Name of the MCP server (logs, metrics).' })),
    namespace: Type.Optional(Type.String({ description: 'Namespace of the MCP server.' })),
    upstream: Type.Optional(AgentUpstream),
    backends: Type.Optional(Type.Array(AgentBackend, { minItems: 1, description: 'Several MCP servers behind this one endpoint, their lists merged (instead of upstream).' })),
    aggregate: Type.Optional(AggregateSettings),
    tls: Type.Optional(AgentTls),
    resourceURL: Type.Optional(
      Type.String({ pattern: '^https?://.*', description: 'This resource (RFC 9728 `resource`, and the expected token audience when none is set).' }),
    ),
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Scopes advertised in protected resource metadata.' })),
    oidcConfig: Type.Optional(OIDCConfigRef),
    authzConfig: Type.Optional(AgentAuthzConfig),
    authentication: Type.Optional(AgentAuthentication),
    toolsFilter: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Only these tools are listed and callable.' })),
    capabilities: Type.Optional(MCPCapabilities),
    readOnly: Type.Boolean({ default: false, description: 'Refuse tools not annotated readOnlyHint: true.' }),
    approval: Type.Optional(Approval),
    identity: Type.Optional(AgentIdentity),
    argumentRules: Type.Optional(Type.Array(ArgumentRule, { description: 'Argument sanitization rules, checked before a tool call reaches the server.' })),
    limits: AgentLimits,
    audit: AgentAudit,
    egress: Type.Optional(AgentEgress),
    catalog: Type.Optional(AgentCatalog),
  },
  { description: 'The document the ome-mcp agent runs from: how it runs, its upstream, and its policy.' },
);
export type AgentConfig = Static<typeof AgentConfig>;


type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
/** What a config writer has to provide: anything with a default may be omitted. */
export type AgentConfigInput = DeepPartial<AgentConfig>;

// ---------------------------------------------------------------- semantic checks

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** https, or http on loopback only (tests and in-pod endpoints). */
function secureUrlIssue(path: string, value: string | undefined): Issue | undefined {
  if (value === undefined || value === '') return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { path, message: 'must be an https URL' };
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
  return { path, message: 'must be an https URL' };
}

function httpUrlIssue(path: string, value: string | undefined): Issue | undefined {
  if (value === undefined) return undefined;
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return undefined;
  } catch {
    /* fall through */
  }
  return { path, message: 'must be an http or https URL' };
}

function semanticIssues(c: AgentConfig): Issue[] {
  const out: (Issue | undefined)[] = [];
  const o = c.oidcConfig;
  if (o?.inline) {
    const p = 'oidcConfig.inline';
    out.push(secureUrlIssue(joinPath(p, 'issuer'), o.inline.issuer));
    out.push(secureUrlIssue(joinPath(p, 'jwksURL'), o.inline.jwksURL));
    out.push(secureUrlIssue(joinPath(p, 'introspectionURL'), o.inline.introspectionURL));
    if ((o.inline.clientSecret || o.inline.clientSecretRef) && !o.inline.clientId) {
      out.push({ path: joinPath(p, 'clientId'), message: 'is required when a client secret is set' });
    }
    if (o.inline.clientSecret && o.inline.clientSecretRef) {
      out.push({ path: joinPath(p, 'clientSecret'), message: 'set either clientSecret or clientSecretRef, not both' });
    }
  }
  if (o?.kubernetes) {
    const p = 'oidcConfig.kubernetes';
    out.push(secureUrlIssue(joinPath(p, 'issuer'), o.kubernetes.issuer));
    out.push(secureUrlIssue(joinPath(p, 'jwksURL'), o.kubernetes.jwksURL));
    out.push(secureUrlIssue(joinPath(p, 'introspectionURL'), o.kubernetes.introspectionURL));
  }
  if (o?.resourceURL !== undefined) out.push(httpUrlIssue('oidcConfig.resourceURL', o.resourceURL));
  if (c.resourceURL !== undefined) out.push(httpUrlIssue('resourceURL', c.resourceURL));
  if (c.upstream?.url !== undefined) out.push(httpUrlIssue('upstream.url', c.upstream.url));
  if (c.authentication) out.push(...authMethodIssues(c.authentication.methods, { oidcConfig: !!o }, 'authentication.methods'));
  const entities = c.authzConfig?.inline?.entitiesJSON;
  if (entities !== undefined) {
    try {
      if (!Array.isArray(JSON.parse(entities))) out.push({ path: 'authzConfig.inline.entitiesJSON', message: 'must be a JSON array' });
    } catch (e) {
      out.push({ path: 'authzConfig.inline.entitiesJSON', message: `is not valid JSON (${(e as Error).message})` });
    }
  }
  if (c.limits.requestTimeout && new RegExp(DURATION_PATTERN).test(c.limits.requestTimeout) && durationToMs(c.limits.requestTimeout) <= 0) {
    out.push({ path: 'limits.requestTimeout', message: 'must be greater than 0' });
  }
  if (c.egress) out.push(...allowHostIssues('egress.allowHost', c.egress.allowHost));
  if (c.catalog) out.push(...catalogIssues(c.catalog));
  if (c.backends) out.push(...backendIssues(c.backends));
  if (c.backends && (c.upstream?.command || c.upstream?.url)) out.push({ path: 'backends', message: 'give either backends or an upstream command/url, not both' });
  c.argumentRules?.forEach((r, i) =>
    r.denyPatterns?.forEach((p, j) => {
      try {
        new RegExp(p);
      } catch (e) {
        out.push({ path: `argumentRules[${i}].denyPatterns[${j}]`, message: `is not a valid regular expression (${(e as Error).message})` });
      }
    }),
  );
  const pp = c.limits.perPrincipal;
  if (pp?.burst !== undefined && pp.requestsPerMinute === undefined) {
    out.push({ path: 'limits.perPrincipal.burst', message: 'needs requestsPerMinute' });
  }
  return out.filter((i): i is Issue => i !== undefined);
}

/**
 * Validates an agent configuration (parsed JSON/YAML), applies defaults and returns it.
 * Throws a ValidationError naming every bad field by path, e.g.
 * `oidcConfig.inline.issuer: must be an https URL`.
 */
export function parseAgentConfig(value: unknown): AgentConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('agent config', [{ path: '', message: 'must be an object' }]);
  }
  const { value: cfg, issues } = check<AgentConfig>(AgentConfig, value);
  try {
    const seen = new Set(issues.map((i) => i.path));
    for (const i of semanticIssues(cfg)) if (!seen.has(i.path)) issues.push(i);
  } catch {
    // a structurally broken config already has schema issues; the semantic pass is best effort
  }
  if (issues.length > 0) throw new ValidationError('agent config', issues);
  return cfg;
}
