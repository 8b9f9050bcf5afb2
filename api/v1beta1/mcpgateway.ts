// MCPGateway (ome.io/v1beta1): one endpoint in front of several MCPServers of its namespace. Its
// pod is the agent alone in backends mode (docs/aggregate.md): each selected server's Service is
// a backend, their tools merged under one URL with one policy. The backend and merge settings are
// the agent config's own (api/agent-backends.ts), the policy sections the MCPServer's: one
// source for each. Not to be confused with agent/mux/gateway.ts, the per-agent session multiplexer.
import { Type, type Static } from 'typebox';
import { AggregateSettings, BACKEND_NAME_PATTERN, BACKEND_TRANSPORTS, BackendAudience, BackendToolView } from '../agent-backends.js';
import { Condition, LabelSelector, ResourceRequirements, TopLevelObject } from './core.js';
import { AuthzConfigRef, CLUSTER_MCPSERVER_KIND, MCPSERVER_KIND, MCPServerStatus, OIDCConfigRef, SESSION_AFFINITIES } from './mcpserver.js';
import { AuthenticationSpec } from './authentication.js';
import { EXPOSURE_RULE, ExposureFields } from './exposure.js';
import { AgentAudit, AgentLimits, SessionSettings } from './operations.js';
import { Identity } from './identity.js';
import { cel, Int32, StringEnum, withoutDefault } from './schema.js';

export const MCPGATEWAY_KIND = 'MCPGateway';
export const MCPGATEWAY_PLURAL = 'mcpgateways';

/** What a serverRef may name: an MCPServer (this namespace, or another one that grants it), or a ClusterMCPServer. */
export const MCPGATEWAY_SERVER_KINDS = [MCPSERVER_KIND, CLUSTER_MCPSERVER_KIND] as const;
export type MCPGatewayServerKind = (typeof MCPGATEWAY_SERVER_KINDS)[number];

export const MCPGatewayServerRef = Type.Object(
  {
    kind: Type.Optional(
      StringEnum(MCPGATEWAY_SERVER_KINDS, {
        default: MCPSERVER_KIND,
        description: 'MCPServer (default) or ClusterMCPServer (cluster-scoped: usable from every namespace without a grant).',
      }),
    ),
    name: Type.String({ minLength: 1, description: 'The MCPServer or ClusterMCPServer.' }),
    namespace: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
        description:
          'MCPServer only: its namespace (default: the MCPGateway’s). Another namespace is used only when a ReferenceGrant (gateway.networking.k8s.io/v1beta1) there allows MCPGateways of this namespace to refer to it.',
      }),
    ),
  },
  {
    description: 'The server a backend is: an MCPServer (of this or a granting namespace) or a ClusterMCPServer.',
    ...cel({ rule: "!has(self.__namespace__) || !has(self.kind) || self.kind == 'MCPServer'", message: 'namespace is for an MCPServer (a ClusterMCPServer has none)' }),
  },
);
export type MCPGatewayServerRef = Static<typeof MCPGatewayServerRef>;

export const MCPGatewayBackend = Type.Object(
  {
    name: Type.Optional(
      Type.String({ pattern: BACKEND_NAME_PATTERN, description: 'Prefix of its tools and prompts (default: the MCPServer’s name; required with url).' }),
    ),
    serverRef: Type.Optional(MCPGatewayServerRef),
    url: Type.Optional(Type.String({ pattern: '^https?://.*', description: 'An MCP server outside this namespace’s MCPServers (its streamable HTTP or SSE URL).' })),
    transport: Type.Optional(StringEnum(BACKEND_TRANSPORTS, { description: 'For url: auto (streamable HTTP, falling back to SSE), streamable-http or sse.' })),
    audience: Type.Optional(BackendAudience),
    ...BackendToolView,
  },
  {
    description: 'One backend by name: an MCPServer of this namespace, or a URL. With serverSelector, an entry naming a selected server sets its options.',
    ...cel(
      { rule: 'has(self.serverRef) != has(self.url)', message: 'give exactly one of serverRef and url' },
      { rule: 'has(self.url) ? has(self.name) : true', message: 'a url backend needs a name' },
    ),
  },
);
export type MCPGatewayBackend = Static<typeof MCPGatewayBackend>;

export const MCPGatewaySpec = Type.Object(
  {
    serverSelector: Type.Optional({
      ...LabelSelector,
      description: 'MCPServers of this namespace to put behind the endpoint, each a backend named after it (an empty selector: all of them).',
    }),
    backends: Type.Optional(
      Type.Array(MCPGatewayBackend, { 'x-kubernetes-list-type': 'atomic', description: 'Backends named one by one, and the options of selected ones.' }),
    ),
    aggregate: Type.Optional(AggregateSettings),
    replicas: Type.Optional(Int32({ minimum: 0, maximum: 100, default: 1, description: 'Replicas of the agent.' })),
    port: Type.Optional(Int32({ minimum: 1, maximum: 65535, default: 8080, description: 'Port of the Service (and of the agent).' })),
    sessionAffinity: Type.Optional(
      StringEnum(SESSION_AFFINITIES, { default: 'ClientIP', description: "The Service's session affinity (ClientIP keeps a 2025-protocol session on its replica)." }),
    ),
    oidcConfig: Type.Optional(OIDCConfigRef),
    authentication: Type.Optional(AuthenticationSpec),
    authzConfig: Type.Optional(AuthzConfigRef),
    toolsFilter: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set', description: 'Only these of the merged tools (offered names) are listed and callable.' })),
    limits: Type.Optional(withoutDefault(AgentLimits)),
    audit: Type.Optional(withoutDefault(AgentAudit)),
    session: Type.Optional(SessionSettings),
    identity: Type.Optional({
      ...Identity,
      description:
        "The caller's identity for every backend (the MCPServer's field, same meaning): with session.mode per-session each session gets its own backend sessions, each carrying a token exchanged for that backend's audience (backends[].audience, else exchange.audience), or the caller's own with mode passthrough. Needs oidcConfig.",
    }),
    resources: Type.Optional(ResourceRequirements),
    serviceAccount: Type.Optional(Type.String({ description: 'Existing service account of the pods; when unset one is created.' })),
    ...ExposureFields,
  },
  {
    description: 'Desired state of an MCPGateway.',
    ...cel({ rule: 'has(self.serverSelector) || (has(self.backends) && size(self.backends) > 0)', message: 'give serverSelector or backends' }, EXPOSURE_RULE),
  },
);
export type MCPGatewaySpec = Static<typeof MCPGatewaySpec>;

export const MCPGatewayBackendStatus = Type.Object({
  name: Type.String({ description: 'The backend (prefix of its tools).' }),
  server: Type.Optional(Type.String({ description: 'The MCPServer (or ClusterMCPServer) behind it.' })),
  kind: Type.Optional(StringEnum(MCPGATEWAY_SERVER_KINDS, { description: 'Set for a ClusterMCPServer (unset: an MCPServer).' })),
  namespace: Type.Optional(Type.String({ description: 'The MCPServer’s namespace, when it is not the MCPGateway’s.' })),
  url: Type.Optional(Type.String({ description: 'Where the agent reaches it.' })),
  ready: Type.Boolean({ description: 'Its MCPServer is Ready and (when the agent could be asked) the agent has it up; a url backend: the agent’s word alone.' }),
  reason: Type.Optional(Type.String({ description: 'Why it is not ready or not in the agent config, in one word (RefNotPermitted, NotFound, …).' })),
  up: Type.Optional(Type.Boolean({ description: 'What the agent says (its /readyz, read from a Ready pod): connected and listed. Unset when the agent could not be asked.' })),
  tools: Type.Optional(Int32({ minimum: 0, description: 'How many tools the backend lists, as the agent sees it.' })),
  message: Type.Optional(Type.String()),
});
export type MCPGatewayBackendStatus = Static<typeof MCPGatewayBackendStatus>;

const { conditions: _conditions, ...serverStatusFields } = MCPServerStatus.properties;

export const MCPGatewayStatus = Type.Object(
  {
    ...serverStatusFields,
    conditions: Type.Optional(
      Type.Array(Condition, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: 'Ready (the agent is available), BackendsReady (every backend is), ConfigValid, DeploymentAvailable, Exposed (with ingress or httpRoute: what the Ingress or HTTPRoute status says).',
      }),
    ),
    backends: Type.Optional(Type.Array(MCPGatewayBackendStatus, { 'x-kubernetes-list-type': 'atomic', description: 'Each backend, as the agent config names it.' })),
  },
  { description: 'Observed state of an MCPGateway.' },
);
export type MCPGatewayStatus = Static<typeof MCPGatewayStatus>;

export const MCPGateway = TopLevelObject(MCPGatewaySpec, MCPGatewayStatus, {
  description: 'MCPGateway serves several MCPServers of its namespace behind one endpoint: their tools merged, one policy.',
});
export type MCPGateway = Static<typeof MCPGateway>;
