// MCPServer / ClusterMCPServer (ome.io/v1beta1), field by field from OEP-0005's API reference.
// This file is the single source of truth: the TS types (Static<>), the JSON Schema used by
// the agent's config parser, and the CRDs in manifests/crds/ (scripts/gen-crds.ts) all come
// from these definitions. Comments become the CRD field descriptions.
import { CatalogSelectors } from './catalog.js';
import { Identity } from './identity.js';
import { AgentAudit, AgentLimits, Approval, ArgumentRule, SessionSettings } from './operations.js';
import { Type, type Static } from 'typebox';
import { AuthenticationSpec } from './authentication.js';
import { cel, Int32, Int64, StringEnum, withoutDefault } from './schema.js';
import {
  Affinity,
  Condition,
  EnvVar,
  TopLevelObject,
  PodTemplateSpec,
  ResourceRequirements,
  Toleration,
  Volume,
  VolumeMount,
} from './core.js';

export const GROUP = 'ome.io';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

const HTTP_URL_PATTERN = '^https?://.*';

// ---------------------------------------------------------------- enums

export const MCP_SERVER_TYPES = ['Hosted', 'Remote', 'Catalog'] as const;
export const MCPServerType = StringEnum(MCP_SERVER_TYPES);
export type MCPServerType = Static<typeof MCPServerType>;

export const MCP_TRANSPORT_TYPES = ['stdio', 'streamable-http', 'sse'] as const;
export const MCPTransportType = StringEnum(MCP_TRANSPORT_TYPES, {
  description: 'Transport method for MCP communication.',
});
export type MCPTransportType = Static<typeof MCPTransportType>;

export const MCP_SERVER_PHASES = ['Pending', 'Starting', 'Running', 'Updating', 'Failed', 'Terminating'] as const;
export const MCPServerPhase = StringEnum(MCP_SERVER_PHASES, {
  description: 'Phase of the MCPServer lifecycle.',
});
export type MCPServerPhase = Static<typeof MCPServerPhase>;

// ---------------------------------------------------------------- protocol & capabilities

export const MCPProtocolSpec = Type.Object(
  {
    name: Type.Optional(StringEnum(['JSON-RPC'] as const, { default: 'JSON-RPC', description: 'Name of the protocol (always "JSON-RPC" for MCP).' })),
    version: Type.Optional(StringEnum(['2.0'] as const, { default: '2.0', description: 'Version of the JSON-RPC protocol (always "2.0" for MCP).' })),
  },
  { description: 'MCP protocol specification.' },
);
export type MCPProtocolSpec = Static<typeof MCPProtocolSpec>;

export const MCPCapabilities = Type.Object(
  {
    tools: Type.Optional(Type.Boolean({ default: true, description: 'Whether the server supports (and clients may use) MCP tools.' })),
    resources: Type.Optional(Type.Boolean({ default: false, description: 'Whether the server supports (and clients may use) MCP resources.' })),
    prompts: Type.Optional(Type.Boolean({ default: false, description: 'Whether the server supports (and clients may use) MCP prompts.' })),
  },
  { description: 'MCP capabilities exposed by this server; a capability set to false is hidden and refused by the agent.' },
);
export type MCPCapabilities = Static<typeof MCPCapabilities>;

// ---------------------------------------------------------------- secrets

export const SecretRef = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the secret.' }),
    key: Type.String({ minLength: 1, description: 'Key in the secret itself.' }),
    targetEnvName: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Environment variable set from the secret in the MCP server container. Defaults to the key.',
      }),
    ),
  },
  { description: 'Reference to a key of a Secret, exposed to the MCP server as an environment variable.' },
);
export type SecretRef = Static<typeof SecretRef>;

/** A key of a Secret in the MCPServer's namespace (used for the introspection client secret). */
export const SecretKeyRef = Type.Object({
  name: Type.String({ minLength: 1, description: 'Name of the secret.' }),
  key: Type.String({ minLength: 1, description: 'Key in the secret.' }),
});
export type SecretKeyRef = Static<typeof SecretKeyRef>;

/** A header the agent sends on every request to an HTTP or Remote upstream, its value from a Secret. */
export const UpstreamHeader = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", description: 'Header name, e.g. Authorization or X-API-Key.' }),
    secretKeyRef: SecretKeyRef,
    prefix: Type.Optional(Type.String({ description: 'Written before the Secret value, e.g. "Bearer ".' })),
  },
  { description: 'A credential header for the upstream; the value never enters the agent ConfigMap.' },
);
export type UpstreamHeader = Static<typeof UpstreamHeader>;

/** OAuth 2 client credentials the agent uses to reach a protected HTTP or Remote upstream. */
export const UpstreamClientCredentials = Type.Object(
  {
    issuer: Type.String({
      pattern: '^https?://.*',
      description:
        "The authorization server the client was registered with. The agent finds it the MCP way (the upstream's RFC 9728 metadata, then the server's own metadata) and presents the secret to this issuer alone.",
    }),
    clientId: Type.String({ minLength: 1, description: 'Client id.' }),
    clientSecretRef: SecretKeyRef,
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { 'x-kubernetes-list-type': 'set', description: 'Scopes to request (default: what the upstream advertises).' })),
    caBundlePath: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM file of CAs trusted besides the system roots (for the authorization server and the upstream), on one of volumeMounts: it is mounted into the agent too.',
      }),
    ),
  },
  { description: 'OAuth 2 client credentials grant (client_secret_basic); the token is fetched again whenever the upstream answers 401.' },
);
export type UpstreamClientCredentials = Static<typeof UpstreamClientCredentials>;

// ---------------------------------------------------------------- TLS

export const MCPServerTLS = Type.Object(
  {
    secretName: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      description:
        "A Secret with tls.crt and tls.key (type kubernetes.io/tls, e.g. issued by cert-manager) in the server's namespace (a ClusterMCPServer's: the operator namespace). Mounted into the agent alone; a renewed certificate is served without a restart.",
    }),
  },
  { description: 'HTTPS on the MCP endpoint: the agent terminates TLS with this certificate; probes and metrics stay on the plain-HTTP ops port.' },
);
export type MCPServerTLS = Static<typeof MCPServerTLS>;

// ---------------------------------------------------------------- OIDC

import { DEFAULT_K8S_AUDIENCE, DEFAULT_K8S_ISSUER } from './defaults.js';

export { DEFAULT_K8S_AUDIENCE, DEFAULT_K8S_ISSUER };

export const KubernetesOIDCConfig = Type.Object(
  {
    namespace: Type.Optional(Type.String({ description: 'Namespace of the service accounts accepted; defaults to the MCPServer namespace.' })),
    namespaces: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Namespaces whose service accounts are accepted, instead of namespace; ["*"] accepts any. A ClusterMCPServer accepts any by default.',
      }),
    ),
    audience: Type.Optional(Type.String({ default: DEFAULT_K8S_AUDIENCE, description: 'Expected audience of the service account token.' })),
    issuer: Type.Optional(
      Type.String({ default: DEFAULT_K8S_ISSUER, pattern: HTTP_URL_PATTERN, description: 'Expected issuer of the token.' }),
    ),
    useClusterAuth: Type.Optional(
      Type.Boolean({ default: true, description: "Use the pod's service account token and the cluster CA to fetch the cluster JWKS." }),
    ),
    jwksURL: Type.Optional(Type.String({ description: 'JWKS URL; discovered from the issuer when empty.' })),
    introspectionURL: Type.Optional(Type.String({ description: 'Token introspection (RFC 7662 / TokenReview) URL; discovered when empty.' })),
  },
  { description: 'OIDC for Kubernetes service account tokens.' },
);
export type KubernetesOIDCConfig = Static<typeof KubernetesOIDCConfig>;

/** A ConfigMap in the server's namespace holding a JSON document under `defaultKey` (or `key`). */
const ConfigMapRef = (defaultKey: string, keyDescription: string, description: string) =>
  Type.Object(
    {
      name: Type.String({ minLength: 1, description: 'Name of the ConfigMap.' }),
      key: Type.Optional(Type.String({ default: defaultKey, description: keyDescription })),
    },
    { description },
  );

export const ConfigMapOIDCRef = ConfigMapRef('oidc.json', 'Key holding the OIDC JSON (an InlineOIDCConfig).', 'ConfigMap (same namespace) holding an InlineOIDCConfig as JSON.');
export type ConfigMapOIDCRef = Static<typeof ConfigMapOIDCRef>;

export const InlineOIDCConfig = Type.Object(
  {
    issuer: Type.String({ minLength: 1, description: 'OIDC issuer URL (required).' }),
    audience: Type.Optional(Type.String({ description: 'Expected audience.' })),
    jwksURL: Type.Optional(Type.String({ description: 'JWKS URL; discovered from the issuer when empty.' })),
    introspectionURL: Type.Optional(Type.String({ description: 'RFC 7662 introspection endpoint for opaque tokens.' })),
    clientId: Type.Optional(Type.String({ description: 'Client id used to authenticate to the introspection endpoint.' })),
    clientSecret: Type.Optional(
      Type.String({ description: 'Client secret for introspection. Prefer clientSecretRef; a literal here is visible to anyone who can read the object.' }),
    ),
    clientSecretRef: Type.Optional(SecretKeyRef),
    thvCABundlePath: Type.Optional(Type.String({ description: 'Path of a CA bundle (PEM) trusted for the issuer, JWKS and introspection endpoints.' })),
    jwksAuthTokenPath: Type.Optional(Type.String({ description: 'Path of a bearer token file sent when fetching the JWKS.' })),
    jwksAllowPrivateIP: Type.Optional(Type.Boolean({ default: false, description: 'Allow JWKS/introspection URLs that resolve to private IPs.' })),
  },
  { description: 'Direct OIDC configuration.' },
);
export type InlineOIDCConfig = Static<typeof InlineOIDCConfig>;

export const OIDC_CONFIG_TYPES = ['kubernetes', 'configMap', 'inline'] as const;
export const OIDCConfigRef = Type.Object(
  {
    type: StringEnum(OIDC_CONFIG_TYPES, { default: 'kubernetes', description: 'Type of OIDC configuration.' }),
    resourceURL: Type.Optional(
      Type.String({
        pattern: HTTP_URL_PATTERN,
        description: 'Resource URL for OAuth protected resource metadata (RFC 9728); defaults to the in-cluster service URL.',
      }),
    ),
    kubernetes: Type.Optional(KubernetesOIDCConfig),
    configMap: Type.Optional(ConfigMapOIDCRef),
    inline: Type.Optional(InlineOIDCConfig),
  },
  {
    description: 'OIDC authentication configuration.',
    ...cel(
      { rule: "self.type == 'configMap' ? has(self.configMap) : true", message: 'configMap is required for configMap OIDC configuration' },
      { rule: "self.type == 'inline' ? has(self.inline) : true", message: 'inline is required for inline OIDC configuration' },
    ),
  },
);
export type OIDCConfigRef = Static<typeof OIDCConfigRef>;

// ---------------------------------------------------------------- authorization (Cedar)

export const ConfigMapAuthzRef = ConfigMapRef('authz.json', 'Key holding the authorization JSON (an InlineAuthzConfig).', 'ConfigMap (same namespace) holding an InlineAuthzConfig as JSON.');
export type ConfigMapAuthzRef = Static<typeof ConfigMapAuthzRef>;

export const InlineAuthzConfig = Type.Object(
  {
    policies: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Cedar policies (at least one).' }),
    entitiesJSON: Type.Optional(Type.String({ default: '[]', description: 'Cedar entities as a JSON array.' })),
  },
  { description: 'Cedar policies and entities.' },
);
export type InlineAuthzConfig = Static<typeof InlineAuthzConfig>;

export const AUTHZ_CONFIG_TYPES = ['configMap', 'inline'] as const;
export const AuthzConfigRef = Type.Object(
  {
    type: StringEnum(AUTHZ_CONFIG_TYPES, { default: 'configMap', description: 'Type of authorization configuration.' }),
    configMap: Type.Optional(ConfigMapAuthzRef),
    inline: Type.Optional(InlineAuthzConfig),
  },
  {
    description: 'Cedar authorization configuration.',
    ...cel(
      { rule: "self.type == 'configMap' ? has(self.configMap) : true", message: 'configMap is required for configMap authorization configuration' },
      { rule: "self.type == 'inline' ? has(self.inline) : true", message: 'inline is required for inline authorization configuration' },
    ),
  },
);
export type AuthzConfigRef = Static<typeof AuthzConfigRef>;

// ---------------------------------------------------------------- permission profiles

export const OutboundNetworkPermissions = Type.Object({
  insecureAllowAll: Type.Optional(Type.Boolean({ default: false, description: 'Allow all outbound connections (not recommended).' })),
  allowHost: Type.Optional(
    Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set', description: 'Hosts to allow connections to (`*.domain` wildcards, IPs, CIDRs).' }),
  ),
  allowPort: Type.Optional(
    Type.Array(Int32({ minimum: 1, maximum: 65535 }), { 'x-kubernetes-list-type': 'set', description: 'Ports to allow connections to.' }),
  ),
});
export type OutboundNetworkPermissions = Static<typeof OutboundNetworkPermissions>;

export const NetworkPermissions = Type.Object({
  outbound: Type.Optional(OutboundNetworkPermissions),
});
export type NetworkPermissions = Static<typeof NetworkPermissions>;

export const PermissionProfileSpec = Type.Object(
  {
    read: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set', description: 'Paths the MCP server can read.' })),
    write: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set', description: 'Paths the MCP server can write (mounted as emptyDir).' })),
    network: Type.Optional(NetworkPermissions),
  },
  { description: 'File system and network permissions of the MCP server.' },
);
export type PermissionProfileSpec = Static<typeof PermissionProfileSpec>;

export const ConfigMapPermissionRef = ConfigMapRef('permissions.json', 'Key holding the PermissionProfileSpec JSON.', 'ConfigMap (same namespace) holding a PermissionProfileSpec as JSON.');
export type ConfigMapPermissionRef = Static<typeof ConfigMapPermissionRef>;

export const BUILTIN_PERMISSION_PROFILES = ['none', 'network'] as const;
export const PERMISSION_PROFILE_TYPES = ['builtin', 'configMap', 'inline'] as const;
export const PermissionProfileRef = Type.Object(
  {
    type: StringEnum(PERMISSION_PROFILE_TYPES, { default: 'builtin', description: 'Type of permission profile reference.' }),
    name: Type.Optional(StringEnum(BUILTIN_PERMISSION_PROFILES, { description: 'Built-in profile (type builtin): none or network.' })),
    configMap: Type.Optional(ConfigMapPermissionRef),
    inline: Type.Optional(PermissionProfileSpec),
  },
  {
    description: 'Permission profile of the MCP server.',
    ...cel(
      { rule: "self.type == 'builtin' ? has(self.name) && self.name != '' : true", message: 'name is required for builtin permission profiles' },
      { rule: "self.type == 'configMap' ? has(self.configMap) : true", message: 'configMap is required for configMap permission profiles' },
      { rule: "self.type == 'inline' ? has(self.inline) : true", message: 'inline is required for inline permission profiles' },
    ),
  },
);
export type PermissionProfileRef = Static<typeof PermissionProfileRef>;

// ---------------------------------------------------------------- spec

const CATALOG_SELECTOR_RULE = {
  rule: "self.type == 'Catalog' ? has(self.toolSelector) || has(self.promptSelector) || has(self.resourceSelector) : true",
  message: 'a Catalog server needs toolSelector, promptSelector or resourceSelector',
};

export const SPEC_CEL_RULES = [
  { rule: "self.type == 'Hosted' ? has(self.image) && self.image != '' : true", message: 'image is required for Hosted MCP servers' },
  { rule: "self.type == 'Remote' ? has(self.url) && self.url != '' : true", message: 'url is required for Remote MCP servers' },
  CATALOG_SELECTOR_RULE,
];

export const SESSION_AFFINITIES = ['ClientIP', 'None'] as const;

export const MCPServerSpec = Type.Object(
  {
    type: Type.Optional(
      StringEnum(MCP_SERVER_TYPES, {
        default: 'Hosted',
        description:
          'Hosted servers run as containers in the cluster, Remote servers are accessed via URL, Catalog servers are the agent alone serving the MCPTools, MCPPrompts and MCPResources it selects.',
      }),
    ),
    image: Type.Optional(Type.String({ description: 'Container image of the MCP server. Required for Hosted servers, ignored for Remote.' })),
    url: Type.Optional(
      Type.String({ pattern: HTTP_URL_PATTERN, description: 'External URL of a Remote MCP server. Required for Remote, ignored for Hosted.' }),
    ),
    transport: Type.Optional(
      StringEnum(MCP_TRANSPORT_TYPES, { default: 'stdio', description: 'Transport the MCP server speaks (stdio, streamable-http, sse).' }),
    ),
    protocol: Type.Optional(MCPProtocolSpec),
    capabilities: Type.Optional(MCPCapabilities),
    version: Type.Optional(Type.String({ description: 'Version of the MCP server software.' })),
    replicas: Type.Optional(Int32({ minimum: 0, maximum: 100, default: 1, description: 'Desired replicas of a Hosted server.' })),
    upstreamAuth: Type.Optional(
      Type.Object(
        { clientCredentials: Type.Optional(UpstreamClientCredentials) },
        { description: 'How the agent authenticates to an HTTP or Remote upstream besides upstreamHeaders.' },
      ),
    ),
    upstreamHeaders: Type.Optional(
      Type.Array(UpstreamHeader, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Headers for every request to an HTTP or Remote upstream (credentials from Secrets, read by the agent alone).',
      }),
    ),
    sessionAffinity: Type.Optional(
      StringEnum(SESSION_AFFINITIES, {
        default: 'ClientIP',
        description:
          "The Service's session affinity. ClientIP keeps a client on the replica that holds its 2025-protocol session (which lives in one pod); None spreads every connection (2026-07-28 clients are stateless).",
      }),
    ),
    port: Type.Optional(Int32({ minimum: 1, maximum: 65535, default: 8080, description: 'Port the MCP server is exposed on (the Service / agent port).' })),
    tls: Type.Optional(MCPServerTLS),
    targetPort: Type.Optional(
      Int32({ minimum: 1, maximum: 65535, default: 8080, description: 'Port the MCP server listens on (HTTP transports).' }),
    ),
    args: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'atomic', description: 'Additional arguments for the MCP server.' })),
    env: Type.Optional(
      Type.Array(EnvVar, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Environment variables of the MCP server container.',
      }),
    ),
    volumeMounts: Type.Optional(
      Type.Array(VolumeMount, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Pod volumes to mount into the MCP server filesystem.',
      }),
    ),
    secrets: Type.Optional(
      Type.Array(SecretRef, { 'x-kubernetes-list-type': 'atomic', description: 'Secrets exposed to the MCP server as environment variables.' }),
    ),
    serviceAccount: Type.Optional(
      Type.String({ description: 'Existing service account to use; when unset one is created for the MCP server.' }),
    ),
    permissionProfile: Type.Optional(PermissionProfileRef),
    podTemplateSpec: Type.Optional(PodTemplateSpec),
    oidcConfig: Type.Optional(OIDCConfigRef),
    authentication: Type.Optional(AuthenticationSpec),
    authzConfig: Type.Optional(AuthzConfigRef),
    toolsFilter: Type.Optional(
      Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set', description: 'Only these tools are listed and callable (empty: all).' }),
    ),
    readOnly: Type.Optional(Type.Boolean({ description: 'Only tools the server annotates readOnlyHint: true are listed and callable.' })),
    approval: Type.Optional(Approval),
    identity: Type.Optional(Identity),
    ...CatalogSelectors,
    argumentRules: Type.Optional(Type.Array(ArgumentRule, { 'x-kubernetes-list-type': 'atomic', description: 'Argument sanitization rules, checked before a tool call reaches the server.' })),
    limits: Type.Optional(withoutDefault(AgentLimits)),
    audit: Type.Optional(withoutDefault(AgentAudit)),
    session: Type.Optional(SessionSettings),
    resources: Type.Optional(ResourceRequirements),
    tolerations: Type.Optional(Type.Array(Toleration, { 'x-kubernetes-list-type': 'atomic', description: "The pod's tolerations." })),
    nodeSelector: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        'x-kubernetes-map-type': 'atomic',
        description: "Selector which must match a node's labels for the pod to be scheduled on that node.",
      }),
    ),
    affinity: Type.Optional(Affinity),
    volumes: Type.Optional(
      Type.Array(Volume, { 'x-kubernetes-list-type': 'atomic', description: 'Volumes that can be mounted by containers of the pod.' }),
    ),
  },
  { description: 'Desired state of an MCP server.', ...cel(...SPEC_CEL_RULES) },
);
export type MCPServerSpec = Static<typeof MCPServerSpec>;

// ---------------------------------------------------------------- status

export const MCPServerStatus = Type.Object(
  {
    conditions: Type.Optional(
      Type.Array(Condition, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: 'Latest observations: Ready, ConfigValid, DeploymentAvailable.',
      }),
    ),
    url: Type.Optional(Type.String({ description: 'URL where the MCP server can be reached.' })),
    phase: Type.Optional(MCPServerPhase),
    message: Type.Optional(Type.String({ description: 'Additional information about the current phase.' })),
    observedGeneration: Type.Optional(Int64({ description: 'Generation most recently observed by the controller.' })),
    replicas: Type.Optional(Int32({ description: 'Most recently observed number of replicas.' })),
    readyReplicas: Type.Optional(Int32({ description: 'Number of ready replicas.' })),
    selector: Type.Optional(Type.String({ description: "Label selector of the server's pods (the scale subresource's, for a HorizontalPodAutoscaler)." })),
    lastUpdateTime: Type.Optional(Type.String({ format: 'date-time', description: 'Last time the status was updated.' })),
  },
  { description: 'Observed state of an MCP server.' },
);
export type MCPServerStatus = Static<typeof MCPServerStatus>;

// ---------------------------------------------------------------- top-level objects

export type { ObjectMeta } from './core.js';

export const MCPServer = TopLevelObject(MCPServerSpec, MCPServerStatus, {
  description: 'MCPServer runs an MCP server (or fronts a remote one) in a namespace, behind the ome-mcp agent.',
});
export type MCPServer = Static<typeof MCPServer>;

export const CLUSTER_CEL_RULES = [
  {
    rule: "has(self.spec.type) && (self.spec.type == 'Hosted' ? has(self.spec.image) && self.spec.image != '' : true)",
    message: 'image is required for Hosted MCP servers',
  },
  {
    rule: "has(self.spec.type) && (self.spec.type == 'Remote' ? has(self.spec.url) && self.spec.url != '' : true)",
    message: 'url is required for Remote MCP servers',
  },
];

export const ClusterMCPServer = TopLevelObject(MCPServerSpec, MCPServerStatus, {
  description: 'ClusterMCPServer is a cluster-scoped MCPServer shared across namespaces; its objects live in the operator namespace.',
  ...cel(...CLUSTER_CEL_RULES),
});
export type ClusterMCPServer = Static<typeof ClusterMCPServer>;

/** Either kind; the reconciler handles both through this type. */
export type AnyMCPServer = (MCPServer | ClusterMCPServer) & { kind?: string };

export const MCPSERVER_KIND = 'MCPServer';
export const CLUSTER_MCPSERVER_KIND = 'ClusterMCPServer';
export const MCPSERVER_PLURAL = 'mcpservers';
export const CLUSTER_MCPSERVER_PLURAL = 'clustermcpservers';

