// Names shared by the webhook, the reconciler and the agent. One place, so a rename is one edit.

/** Prefix of every ome-mcp pod annotation. */
export const ANNOTATION_PREFIX = 'mcp.ome.io/';

/** Pod annotation: `"true"` opts the pod into agent injection. */
export const ANNOTATION_INJECT = 'mcp.ome.io/inject';
/** Pod annotation: port the agent listens on (default 8080). */
export const ANNOTATION_PORT = 'mcp.ome.io/port';
/** Pod annotation: port of the agent's ops endpoints /healthz, /readyz, /metrics (plain HTTP; default DEFAULT_OPS_PORT). */
export const ANNOTATION_OPS_PORT = 'mcp.ome.io/ops-port';
/** Pod annotation: a Secret (same namespace) with `tls.crt` and `tls.key`: the agent serves HTTPS with it. */
export const ANNOTATION_TLS_SECRET = 'mcp.ome.io/tls-secret';
/** Pod annotation: how the agent reaches a stdio server in another container: `fifo` | `attach`. */
export const ANNOTATION_BRIDGE = 'mcp.ome.io/bridge';
/** Pod annotation: the server's command (JSON array of strings, or a single string), when not in the pod spec. */
export const ANNOTATION_COMMAND = 'mcp.ome.io/command';
/** Pod annotation: name of the ConfigMap holding the agent config (key `agent.json`). */
export const ANNOTATION_CONFIG = 'mcp.ome.io/config';
/** Pod annotation: ConfigMap holding OIDC config (`name` or `name/key`). */
export const ANNOTATION_OIDC_CONFIGMAP = 'mcp.ome.io/oidc-configmap';
/** Pod annotation: ConfigMap holding Cedar authorization config (`name` or `name/key`). */
export const ANNOTATION_CEDAR_CONFIGMAP = 'mcp.ome.io/cedar-configmap';
/** Pod annotation: an HTTP upstream (e.g. `http://127.0.0.1:3000/mcp` or a Remote URL) instead of stdio. */
export const ANNOTATION_UPSTREAM_URL = 'mcp.ome.io/upstream-url';
/** Pod annotation: transport of the upstream (`stdio` | `streamable-http` | `sse`). */
export const ANNOTATION_TRANSPORT = 'mcp.ome.io/transport';
/** Pod annotation written by the webhook: marks a pod as already injected (idempotence). */
/** Pod annotation `"true"`: no MCP server in the pod; the agent serves its catalog alone (`--catalog-only`). */
export const ANNOTATION_CATALOG_ONLY = 'mcp.ome.io/catalog-only';
/** Pod annotation `"true"`: no MCP server in the pod; the agent serves the `backends` of its config (an MCPGateway's pod). */
export const ANNOTATION_BACKENDS = 'mcp.ome.io/backends';
export const ANNOTATION_INJECTED = 'mcp.ome.io/injected';

/** Where a container finds its service-account credentials (the kubelet's automount path). */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

export const BRIDGE_MODES = ['fifo', 'attach'] as const;
export type BridgeMode = (typeof BRIDGE_MODES)[number];

/** Namespace label enabling injection for every pod in the namespace (value `enabled`). */
export const NAMESPACE_INJECTION_LABEL = 'mcp.ome.io/injection';
export const NAMESPACE_INJECTION_ENABLED = 'enabled';

/** Feature gate guarding the MCPServer / ClusterMCPServer reconciler. */
export const FEATURE_GATE_MCP_SERVER_SUPPORT = 'MCPServerSupport';

/** Container name of the MCP server. */
export const MCP_CONTAINER_NAME = 'mcp';
/** Container name of the injected agent. */
export const AGENT_CONTAINER_NAME = 'mcp-agent';

/** Default agent port (also the Service port of an MCPServer). */
export const DEFAULT_AGENT_PORT = 8080;
/**
 * Default port of the agent's ops endpoints in a pod, where they never share the MCP port: the
 * kubelet probes it and Prometheus scrapes it. The next free one when a container uses it.
 */
export const DEFAULT_OPS_PORT = 9090;
/** Key of the agent config inside its ConfigMap. */
export const AGENT_CONFIG_KEY = 'agent.json';
/** Where the agent config ConfigMap is mounted in the agent container. */
export const AGENT_CONFIG_MOUNT_PATH = '/etc/ome-mcp';

/** Where the webhook mounts the OIDC and Cedar ConfigMaps named by pod annotations. */
export const OIDC_MOUNT_PATH = '/etc/ome-mcp-oidc';
export const CEDAR_MOUNT_PATH = '/etc/ome-mcp-cedar';
/**
 * Where the agent reads its upstream credentials: the upstream headers' values (the Secret keys of
 * spec.upstreamHeaders, file `<i>` for header i) and the OAuth client secret (UPSTREAM_CLIENT_SECRET_FILE).
 */
export const UPSTREAM_HEADERS_MOUNT_PATH = '/etc/ome-mcp-upstream-headers';
export const UPSTREAM_CLIENT_SECRET_FILE = `${UPSTREAM_HEADERS_MOUNT_PATH}/client-secret`;
/** The token-exchange client secret of spec.identity, in the same agent-only volume. */
export const IDENTITY_CLIENT_SECRET_FILE = `${UPSTREAM_HEADERS_MOUNT_PATH}/identity-client-secret`;
/** Where the agent reads its serving certificate (the TLS Secret, mounted whole so a renewal reaches it). */
/** The agent's catalog Secret (the Secret keys its declared tools and resources read), agent container only. */
export const CATALOG_MOUNT_PATH = '/etc/ome-mcp-catalog';
export const TLS_MOUNT_PATH = '/etc/ome-mcp-tls';
/** Keys of a `kubernetes.io/tls` Secret. */
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_KEY_KEY = 'tls.key';
/** Where the FIFO bridge's emptyDir is mounted (agent, init container and server container). */
export const BRIDGE_DIR = '/ome-mcp';

/**
 * Environment variables the injector sets on the agent container. The agent reads the option ones
 * (`OME_MCP_<FLAG>`: oidc-config-file, cedar-policies, pod-ip, state-key) through its option table;
 * the pod name and namespace are expanded into its `--upstream-attach` argument by the kubelet;
 * the client secret is read by the policy layer when it resolves oidcConfig.inline.clientSecretRef.
 */
export const AGENT_ENV = {
  oidcConfigFile: 'OME_MCP_OIDC_CONFIG_FILE',
  cedarPolicies: 'OME_MCP_CEDAR_POLICIES',
  podName: 'OME_MCP_POD_NAME',
  podNamespace: 'OME_MCP_POD_NAMESPACE',
  podIP: 'OME_MCP_POD_IP',
  stateKey: 'OME_MCP_STATE_KEY',
  stateKeyPrevious: 'OME_MCP_STATE_KEY_PREVIOUS',
  /** The introspection client secret (from the Secret named by oidcConfig.inline.clientSecretRef). */
  clientSecret: 'OME_MCP_CLIENT_SECRET',
} as const;

/** Labels put on every object the reconciler owns. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_MANAGED_BY_VALUE = 'ome-mcp';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
/** Label naming the owning MCPServer (namespaced owner). */
export const LABEL_MCPSERVER = 'mcp.ome.io/mcpserver';
/** Label naming the owning ClusterMCPServer (cluster-scoped owner: no owner reference possible across scopes). */
export const LABEL_CLUSTER_MCPSERVER = 'mcp.ome.io/clustermcpserver';
/** Label naming the owning MCPGateway. */
export const LABEL_MCPGATEWAY = 'mcp.ome.io/mcpgateway';
/** Finalizer the reconciler puts on ClusterMCPServers to delete their namespaced objects. */
export const FINALIZER_CLUSTER_CLEANUP = 'mcp.ome.io/cleanup';
/** Field manager used for server-side apply. */
export const FIELD_MANAGER = 'ome-mcp';
