// Desired objects for one server: pure functions from (server, resolved config, options) to the
// Kubernetes objects the reconciler applies. No I/O here; unit-tested in desired.test.ts.
import { basename } from 'node:path';
import type {
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Ingress,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyPeer,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { splitReloadable, type AgentConfig } from '../../api/agent-config.js';
import { AUTH_FILES_MOUNT_PATH, authFileName, CLIENT_CA_FILE_NAME } from '../../api/agent-authentication.js';
import {
  AGENT_CONFIG_KEY,
  AGENT_CONTAINER_NAME,
  AGENT_ENV,
  ANNOTATION_BACKENDS,
  ANNOTATION_BRIDGE,
  ANNOTATION_CATALOG_ONLY,
  ANNOTATION_CONFIG,
  CATALOG_MOUNT_PATH,
  ANNOTATION_INJECT,
  ANNOTATION_OPS_PORT,
  ANNOTATION_PORT,
  ANNOTATION_TLS_SECRET,
  ANNOTATION_TRANSPORT,
  ANNOTATION_UPSTREAM_URL,
  MCP_CONTAINER_NAME,
  IDENTITY_CLIENT_SECRET_FILE,
  UPSTREAM_CLIENT_SECRET_FILE,
  UPSTREAM_HEADERS_MOUNT_PATH,
  type BridgeMode,
} from '../../api/annotations.js';
import { MCPSERVER_KIND, type MCPServerSpec, type PermissionProfileSpec } from '../../api/v1beta1/mcpserver.js';
import { freeOpsPort, mutatePod, type InjectorSettings } from '../mutation/index.js';
import { deepMerge } from './merge.js';
import { baseName, commonLabels, configMapName, ownedBy, roleName, selectorLabels, serviceAccountName, shortHash, type Owner, type ServerRef } from './names.js';
import { egressRestricted, runsServer, UPSTREAM_PATH, upstreamTransport } from './resolve.js';
import { ANNOTATION_STATE_KEY_ROTATED, STATE_KEY, STATE_KEY_PREVIOUS, type StateKeyRef } from './state-key.js';
import { EGRESS_NO_PROXY, parseHostEntry } from '../../api/egress.js';
import type { ApiServerAddresses } from './api-server.js';
import { isIP } from 'node:net';
import type { HTTPRouteObject } from '../../api/gateway-api.js';

/** Annotation on every generated object: hash of what was applied (skip no-op applies). */
export const ANNOTATION_APPLIED_HASH = 'mcp.ome.io/applied-hash';
/** Annotation on every generated object: name of the owning server (labels may be truncated). */
export const ANNOTATION_OWNER = 'mcp.ome.io/owner';

/**
 * Pod template annotation: hash of the agent config the agent cannot apply in place (upstream,
 * ports, limits, sessions: everything but RELOADABLE_KEYS). A change there rolls the Deployment
 * instead of leaving pods on the old settings while status says Running; a change of policy,
 * filters or OIDC does not: the agent reloads those from the mounted ConfigMap (pod-nudge.ts).
 */
export const ANNOTATION_CONFIG_HASH = 'mcp.ome.io/config-hash';

/** The config hash of the pod template: the part of the agent config that needs a restart. */
// The catalog reloads in place, but its kinds are capabilities the agent declares once, when its
// server initializes: a selector for a new kind rolls the pods (docs/declarative.md).
const restartConfigHash = (config: AgentConfig) =>
  shortHash(JSON.stringify({ ...splitReloadable(config).restart, ...(config.catalog ? { catalogKinds: Object.keys(config.catalog).sort() } : {}) }), 16);

/** The webhook's pod mutation refused the generated template (a spec problem the user must fix). */
export class InjectionDenied extends Error {}

export interface BuildInput {
  ref: ServerRef;
  /** Defaulted spec. */
  spec: MCPServerSpec;
  agentConfig: AgentConfig;
  permissions?: PermissionProfileSpec;
  /** The API server's addresses (resolve.ts), for a restricted NetworkPolicy. */
  apiServer?: ApiServerAddresses;
  /** Set for MCPServer (same namespace); ClusterMCPServer objects are tracked by labels. */
  owner?: Owner;
  /** The replicas' shared state key (state-key.ts): unset, each agent seals with a key of its own. */
  stateKey?: StateKeyRef;
  /** Agent injection settings (image, resources) for the shared pod mutation. */
  injector: InjectorSettings;
  /** The catalog Secret (catalog/secret.ts), when declared objects read Secret keys: mounted into the agent alone. */
  catalogSecret?: string;
}

export type DesiredObject =
  | V1Ingress
  | HTTPRouteObject
  | V1ServiceAccount
  | V1ConfigMap
  | V1Deployment
  | V1Service
  | V1NetworkPolicy
  | V1PodDisruptionBudget
  | V1Role
  | V1RoleBinding;

/** Port of the agent: the spec's port, moved aside when an HTTP server listens on it already. */
export function agentPort(spec: MCPServerSpec): number {
  const port = spec.port ?? 8080;
  if (runsServer(spec) && upstreamTransport(spec) !== 'stdio' && (spec.targetPort ?? 8080) === port) {
    return port === 8090 ? 8091 : 8090;
  }
  return port;
}

/** Port of the agent's ops endpoints (probes, metrics): the default one, unless the server or the agent uses it. */
export function agentOpsPort(input: Pick<BuildInput, 'spec' | 'agentConfig'>): number {
  const { spec } = input;
  const server = runsServer(spec) && upstreamTransport(spec) !== 'stdio' ? [spec.targetPort ?? 8080] : [];
  const egress = input.agentConfig.egress ? [input.agentConfig.egress.port] : [];
  return freeOpsPort([agentPort(spec), ...server, ...egress]);
}

/** How the agent reaches a Hosted stdio server: fifo when the command is known, else attach. */
export function bridgeMode(spec: MCPServerSpec): BridgeMode | undefined {
  if (!runsServer(spec) || upstreamTransport(spec) !== 'stdio') return undefined;
  return userMcpContainer(spec)?.command?.length ? 'fifo' : 'attach';
}

function userMcpContainer(spec: MCPServerSpec): V1Container | undefined {
  return spec.podTemplateSpec?.spec?.containers?.find((c) => c.name === MCP_CONTAINER_NAME);
}

/** Does the agent call the API server (cluster JWKS, attach)? Then it needs the SA token. */
export function agentNeedsApi(input: Pick<BuildInput, 'spec' | 'agentConfig'>): boolean {
  const o = input.agentConfig.oidcConfig;
  return bridgeMode(input.spec) === 'attach' || (o?.type === 'kubernetes' && o.kubernetes?.useClusterAuth !== false);
}

/** Metadata of a generated object: the owner's labels, its name annotation and owner reference. */
export function meta(input: Pick<BuildInput, 'ref' | 'owner'>, name: string, extraAnnotations: Record<string, string> = {}) {
  return {
    name,
    namespace: input.ref.namespace,
    labels: commonLabels(input.ref),
    annotations: { [ANNOTATION_OWNER]: input.ref.name, ...extraAnnotations },
    ...ownedBy(input.owner),
  };
}


/** How long a stopping server keeps serving (its preStop): endpoint removal takes a moment to reach every node. */
export const SERVER_STOP_DELAY_SECONDS = 5;

const UPSTREAM_HEADERS_VOLUME = 'ome-mcp-upstream-headers';
const CATALOG_VOLUME = 'ome-mcp-catalog';

const writeVolumeName = (path: string) => `mcp-write-${shortHash(path, 10)}`;

export function buildServiceAccount(input: BuildInput): V1ServiceAccount | undefined {
  if (input.spec.serviceAccount) return undefined;
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(input, serviceAccountName(input.ref)), automountServiceAccountToken: false };
}

export function buildConfigMap(input: BuildInput): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(input, configMapName(input.ref)),
    data: { [AGENT_CONFIG_KEY]: JSON.stringify(input.agentConfig, null, 2) + '\n' },
  };
}

function serverContainer(input: BuildInput): V1Container {
  const { spec } = input;
  const proxy = proxyEnv(input.agentConfig);
  const env: V1EnvVar[] = [
    ...(spec.env ?? []).map((e) => structuredClone(e) as V1EnvVar),
    ...(spec.secrets ?? []).map((s) => ({ name: s.targetEnvName ?? s.key, valueFrom: { secretKeyRef: { name: s.name, key: s.key } } })),
  ].filter((e) => !proxy.some((p) => p.name === e.name));
  env.push(...proxy);
  const writes = input.permissions?.write ?? [];
  const mounts: V1VolumeMount[] = [
    ...(spec.volumeMounts ?? []).map((m) => readOnlyIfRead(structuredClone(m) as V1VolumeMount, input.permissions?.read ?? [])),
    ...writes.map((p) => ({ name: writeVolumeName(p), mountPath: p })),
  ];
  const transport = upstreamTransport(spec);
  const c: V1Container = {
    name: MCP_CONTAINER_NAME,
    image: spec.image,
    ...(spec.args?.length ? { args: [...spec.args] } : {}),
    ...(env.length ? { env } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...(spec.resources ? { resources: structuredClone(spec.resources) as V1Container['resources'] } : {}),
    ...(transport !== 'stdio' ? { ports: [{ name: 'mcp-server', containerPort: spec.targetPort ?? 8080, protocol: 'TCP' }] } : {}),
    ...(bridgeMode(spec) === 'attach' ? { stdin: true, stdinOnce: false, tty: false } : {}),
    // A deleted pod leaves its Service's endpoints while its containers are stopping. The server
    // is stopped first (the agent, a sidecar, after it): it waits here until traffic has moved to
    // other pods and in-flight calls are done, instead of dying under them.
    lifecycle: { preStop: { sleep: { seconds: SERVER_STOP_DELAY_SECONDS } } },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    },
  };
  return c;
}

/**
 * The egress proxy's address for the server (the agent's proxy on the shared loopback): every
 * common spelling, since tools read different ones (curl only the lower-case http_proxy, Node's
 * own fetch and http only with NODE_USE_ENV_PROXY=1). A spec's own values of these are replaced.
 */
function proxyEnv(config: AgentConfig): V1EnvVar[] {
  if (!config.egress) return [];
  const url = `http://127.0.0.1:${config.egress.port}`;
  return [
    ...['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].map((name) => ({ name, value: url })),
    ...['NO_PROXY', 'no_proxy'].map((name) => ({ name, value: EGRESS_NO_PROXY })),
    { name: 'NODE_USE_ENV_PROXY', value: '1' },
  ];
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir.replace(/\/?$/, '/'));

/** A mount inside a `read` path, or holding one, is mounted read-only (permissionProfile.read). */
function readOnlyIfRead(mount: V1VolumeMount, reads: readonly string[]): V1VolumeMount {
  return reads.some((r) => within(mount.mountPath, r) || within(r, mount.mountPath)) ? { ...mount, readOnly: true } : mount;
}

export function buildPodTemplate(input: BuildInput): V1PodTemplateSpec {
  const { spec, ref } = input;
  const remote = spec.type === 'Remote';
  // No server container: Remote (the server is elsewhere) and Catalog (there is none).
  const agentOnly = !runsServer(spec);
  const transport = upstreamTransport(spec);
  const port = agentPort(spec);
  const bridge = bridgeMode(spec);
  const annotations: Record<string, string> = {
    [ANNOTATION_INJECT]: 'true',
    [ANNOTATION_PORT]: String(port),
    [ANNOTATION_OPS_PORT]: String(agentOpsPort(input)),
    [ANNOTATION_CONFIG]: configMapName(ref),
    // The agent alone: its config's catalog, or (an MCPGateway's) its config's backends.
    ...(spec.type === 'Catalog' ? { [input.agentConfig.backends ? ANNOTATION_BACKENDS : ANNOTATION_CATALOG_ONLY]: 'true' } : { [ANNOTATION_TRANSPORT]: transport }),
  };
  if (bridge) annotations[ANNOTATION_BRIDGE] = bridge;
  if (spec.tls) annotations[ANNOTATION_TLS_SECRET] = spec.tls.secretName;
  if (remote) annotations[ANNOTATION_UPSTREAM_URL] = spec.url ?? '';
  else if (transport !== 'stdio') annotations[ANNOTATION_UPSTREAM_URL] = `http://127.0.0.1:${spec.targetPort ?? 8080}${UPSTREAM_PATH[transport]}`;

  const agentMounts = agentFileMounts(spec, input.agentConfig);
  const headers = upstreamHeadersVolume(spec);
  if (headers) agentMounts.push({ name: headers.name, mountPath: UPSTREAM_HEADERS_MOUNT_PATH, readOnly: true });
  const authFiles = authFilesVolume(spec);
  if (authFiles) agentMounts.push({ name: authFiles.name, mountPath: AUTH_FILES_MOUNT_PATH, readOnly: true });
  // The whole Secret, not items: the kubelet then updates the files when the Secret changes.
  const catalog: V1Volume | undefined = input.catalogSecret ? { name: CATALOG_VOLUME, secret: { secretName: input.catalogSecret, defaultMode: 0o440 } } : undefined;
  if (catalog) agentMounts.push({ name: CATALOG_VOLUME, mountPath: CATALOG_MOUNT_PATH, readOnly: true });
  const volumes: V1Volume[] = [
    ...(headers ? [headers] : []),
    ...(authFiles ? [authFiles] : []),
    ...(catalog ? [catalog] : []),
    // Without a server container only the volumes the agent reads are kept.
    ...(spec.volumes ?? []).filter((v) => !agentOnly || agentMounts.some((m) => m.name === v.name)).map((v) => structuredClone(v)),
    ...(agentOnly ? [] : (input.permissions?.write ?? []).map((p) => ({ name: writeVolumeName(p), emptyDir: {} }))),
  ];
  const generated: V1PodTemplateSpec = {
    metadata: { labels: { ...commonLabels(ref) }, annotations },
    spec: {
      serviceAccountName: spec.serviceAccount ?? serviceAccountName(ref),
      // No API credentials for the server container; the agent gets its own (see mutatePod).
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        fsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: agentOnly ? [] : [serverContainer(input)],
      ...(volumes.length ? { volumes } : {}),
      ...(spec.tolerations?.length ? { tolerations: structuredClone(spec.tolerations) as NonNullable<V1PodTemplateSpec['spec']>['tolerations'] } : {}),
      ...(spec.nodeSelector && Object.keys(spec.nodeSelector).length ? { nodeSelector: { ...spec.nodeSelector } } : {}),
      ...(spec.affinity ? { affinity: structuredClone(spec.affinity) } : {}),
    },
  };
  const template = spec.podTemplateSpec ? (deepMerge(generated, spec.podTemplateSpec) as V1PodTemplateSpec) : generated;
  // The selector labels and the injection contract are not the user's to change.
  // The owner annotation lets the reconciler map a pod back to its server (status from pod state).
  template.metadata = {
    ...template.metadata,
    labels: { ...(template.metadata?.labels ?? {}), ...selectorLabels(ref) },
    annotations: {
      ...(template.metadata?.annotations ?? {}),
      ...annotations,
      [ANNOTATION_OWNER]: ref.name,
      [ANNOTATION_CONFIG_HASH]: restartConfigHash(input.agentConfig),
      // The agent reads the key at start: a rotation rolls the pods (ids sealed before still open).
      ...(input.stateKey ? { [ANNOTATION_STATE_KEY_ROTATED]: input.stateKey.rotatedAt } : {}),
    },
  };
  // The same mutation the webhook applies to pods: the Deployment shows the agent, and the webhook
  // leaves the pods alone (they carry the injected marker).
  const r = mutatePod({ object: template, optIn: 'force', settings: input.injector, agentNeedsApi: agentNeedsApi(input) });
  if (!r.allowed) throw new InjectionDenied(r.reason);
  withClientSecret(r.object, input.agentConfig);
  withUpstreamCA(r.object, spec);
  withStateKey(r.object, input.stateKey);
  withAgentMounts(r.object, agentMounts);
  return r.object;
}

/**
 * The files the agent itself reads from the spec's volumes (the issuer's CA bundle, the JWKS
 * token): each path's covering `volumeMounts` entry, read-only, for the agent container too.
 */
export function agentFileMounts(spec: MCPServerSpec, config: AgentConfig): V1VolumeMount[] {
  const inline = config.oidcConfig?.inline;
  const paths = [inline?.thvCABundlePath, inline?.jwksAuthTokenPath, spec.upstreamAuth?.clientCredentials?.caBundlePath].filter((p): p is string => !!p);
  const mounts = new Map<string, V1VolumeMount>();
  for (const path of paths) {
    const covering = (spec.volumeMounts ?? [])
      .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/?$/, '/')))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (covering) mounts.set(covering.mountPath, { ...(structuredClone(covering) as V1VolumeMount), readOnly: true });
  }
  return [...mounts.values()];
}

/**
 * The upstream credentials for the agent alone (resolve.ts names the files): the Secret keys of
 * spec.upstreamHeaders, file `<i>` for header i, the OAuth client secret and the token-exchange one.
 */
function upstreamHeadersVolume(spec: MCPServerSpec): V1Volume | undefined {
  const headers = spec.upstreamHeaders ?? [];
  const cc = spec.upstreamAuth?.clientCredentials;
  const exchange = spec.identity?.exchange;
  if (!headers.length && !cc && !exchange) return undefined;
  const sources = headers.map((h, i) => ({ secret: { name: h.secretKeyRef.name, items: [{ key: h.secretKeyRef.key, path: String(i) }] } }));
  if (cc) sources.push({ secret: { name: cc.clientSecretRef.name, items: [{ key: cc.clientSecretRef.key, path: basename(UPSTREAM_CLIENT_SECRET_FILE) }] } });
  if (exchange) sources.push({ secret: { name: exchange.clientSecretRef.name, items: [{ key: exchange.clientSecretRef.key, path: basename(IDENTITY_CLIENT_SECRET_FILE) }] } });
  return { name: UPSTREAM_HEADERS_VOLUME, projected: { defaultMode: 0o440, sources } };
}

/** The shared state key, and the one before a rotation, from the server's Secret. */
function withStateKey(template: V1PodTemplateSpec, key: StateKeyRef | undefined): void {
  const agent = agentContainer(template);
  if (!key || !agent) return;
  const names = new Set<string>([AGENT_ENV.stateKey, AGENT_ENV.stateKeyPrevious]);
  agent.env = [
    ...(agent.env ?? []).filter((e) => !names.has(e.name)),
    { name: AGENT_ENV.stateKey, valueFrom: { secretKeyRef: { name: key.secretName, key: STATE_KEY } } },
    ...(key.hasPrevious ? [{ name: AGENT_ENV.stateKeyPrevious, valueFrom: { secretKeyRef: { name: key.secretName, key: STATE_KEY_PREVIOUS } } }] : []),
  ];
}

/** Node trusts these CAs for every TLS connection of the agent (the upstream's authorization server and the upstream). */
function withUpstreamCA(template: V1PodTemplateSpec, spec: MCPServerSpec): void {
  const ca = spec.upstreamAuth?.clientCredentials?.caBundlePath;
  const agent = agentContainer(template);
  if (!ca || !agent) return;
  agent.env = [...(agent.env ?? []).filter((e) => e.name !== 'NODE_EXTRA_CA_CERTS'), { name: 'NODE_EXTRA_CA_CERTS', value: ca }];
}

const AUTH_FILES_VOLUME = 'ome-mcp-auth';

/**
 * The files of spec.authentication (API keys, Basic users, the client CA) in one projected volume
 * for the agent alone: the server container never sees a hash. resolve.ts names the same files.
 */
function authFilesVolume(spec: MCPServerSpec): V1Volume | undefined {
  const sources: NonNullable<NonNullable<V1Volume['projected']>['sources']> = [];
  for (const [i, m] of (spec.authentication?.methods ?? []).entries()) {
    if ((m.type === 'ApiKey' || m.type === 'Basic') && m.secretRef) sources.push({ secret: { name: m.secretRef.name, items: [{ key: m.secretRef.key, path: authFileName(i) }] } });
    if (m.type === 'ClientCertificate' && m.caRef) {
      const items = [{ key: m.caRef.key ?? 'ca.crt', path: CLIENT_CA_FILE_NAME }];
      sources.push((m.caRef.kind ?? 'Secret') === 'Secret' ? { secret: { name: m.caRef.name, items } } : { configMap: { name: m.caRef.name, items } });
    }
  }
  return sources.length ? { name: AUTH_FILES_VOLUME, projected: { defaultMode: 0o440, sources } } : undefined;
}

function agentContainer(template: V1PodTemplateSpec): V1Container | undefined {
  const spec = template.spec!;
  return [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === AGENT_CONTAINER_NAME);
}

function withAgentMounts(template: V1PodTemplateSpec, mounts: V1VolumeMount[]): void {
  const agent = agentContainer(template);
  if (!agent || !mounts.length) return;
  const taken = new Set((agent.volumeMounts ?? []).map((m) => m.mountPath));
  agent.volumeMounts = [...(agent.volumeMounts ?? []), ...mounts.filter((m) => !taken.has(m.mountPath))];
}

/** The agent reads the introspection client secret from env; the Secret itself never enters the ConfigMap. */
function withClientSecret(template: V1PodTemplateSpec, config: AgentConfig): void {
  const ref = config.oidcConfig?.inline?.clientSecretRef;
  if (!ref) return;
  const agent = agentContainer(template);
  if (!agent) return;
  agent.env = [...(agent.env ?? []).filter((e) => e.name !== AGENT_ENV.clientSecret), { name: AGENT_ENV.clientSecret, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }];
}

export function buildDeployment(input: BuildInput): V1Deployment {
  const { spec, ref } = input;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(input, baseName(ref)),
    spec: {
      replicas: spec.replicas ?? 1,
      selector: { matchLabels: selectorLabels(ref) },
      // A rollout starts the new pod before it stops an old one: never fewer ready replicas.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: buildPodTemplate(input),
    },
  };
}

export function buildService(input: BuildInput): V1Service {
  const { spec, ref } = input;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(input, baseName(ref)),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(ref),
      sessionAffinity: spec.sessionAffinity ?? 'ClientIP',
      ports: [{ name: 'mcp', port: spec.port ?? 8080, targetPort: agentPort(spec), protocol: 'TCP', appProtocol: spec.tls ? 'https' : 'http' }],
    },
  };
}

/**
 * Destinations known by name only: any address but link-local (169.254.169.254 and the other
 * metadata services), and the cluster's pods (an ipBlock is meant for addresses outside it).
 */
const ANY_ADDRESS: V1NetworkPolicyPeer[] = [
  { ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } },
  { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } },
  { namespaceSelector: {} },
];

const hostCidr = (address: string) => `${address}/${isIP(address) === 6 ? 128 : 32}`;
const tcp = (ports: number[]) => [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP', port }));
const API_SERVER_NAME = /^kubernetes\.default(\.svc(\.|$)|$)/;

/** Peers for one host of a URL: its own address when it is an IP, else ANY_ADDRESS. */
function peersOf(host: string): V1NetworkPolicyPeer[] {
  const h = host.replace(/^\[|\]$/g, '');
  return isIP(h) ? [{ ipBlock: { cidr: hostCidr(h) } }] : ANY_ADDRESS;
}

/** The API server alone (its Service address and its endpoints) when known; else its ports to any address. */
function apiServerRule(api: ApiServerAddresses | undefined): V1NetworkPolicyEgressRule {
  const targets = api ? [...(api.service ? [api.service] : []), ...api.endpoints] : [];
  if (!targets.length) return { to: ANY_ADDRESS, ports: tcp([443, 6443]) };
  return { to: [...new Set(targets.map((t) => hostCidr(t.address)))].map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(targets.map((t) => t.port)) };
}

/** host and port of each URL the agent itself fetches for OIDC (discovery, JWKS, introspection). */
function oidcEndpoints(config: AgentConfig): { host: string; port: number }[] {
  const o = config.oidcConfig;
  const settings = o?.inline ?? o?.kubernetes;
  const urls = [settings?.issuer, settings?.jwksURL, settings?.introspectionURL].filter((u): u is string => !!u);
  return urls.flatMap((u) => {
    try {
      const url = new URL(u);
      return [{ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }];
    } catch {
      return [];
    }
  });
}

/** host and port of each URL the agent calls for its catalog (declared tools, HTTP resources). */
function catalogEndpoints(config: AgentConfig): { host: string; port: number }[] {
  const c = config.catalog;
  const urls = [...(c?.tools ?? []).map((t) => t.http.url), ...(c?.resources ?? []).flatMap((r) => (r.http ? [r.http.url] : []))];
  return urls.flatMap((u) => {
    try {
      // {placeholders} in the host part make no URL: the template's host is what is reached.
      const url = new URL(u.replace(/\{[^}]*\}/g, 'x'));
      return [{ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }];
    } catch {
      return [];
    }
  });
}

/** Rules with the same peers become one, their ports joined (all ports when one of them has none). */
function mergeRules(rules: V1NetworkPolicyEgressRule[]): V1NetworkPolicyEgressRule[] {
  const byPeers = new Map<string, V1NetworkPolicyEgressRule>();
  for (const r of rules) {
    const key = JSON.stringify(r.to ?? null);
    const seen = byPeers.get(key);
    if (!seen) byPeers.set(key, structuredClone(r));
    else if (!seen.ports || !r.ports) delete seen.ports;
    else seen.ports = tcp([...seen.ports, ...r.ports].map((p) => Number(p.port)));
  }
  return [...byPeers.values()];
}

/**
 * What a restricted pod may reach, for the agent (the server container shares it: a NetworkPolicy
 * selects pods, not containers): DNS; the API server's own addresses when the agent needs it (attach,
 * Kubernetes tokens); the OIDC issuer, JWKS and introspection hosts on their ports (an IP exactly,
 * a name any address); a Remote URL's host; the hosts of its declared tools and HTTP resources
 * (the agent calls them); and what the egress proxy may reach: the allowHost
 * IPs/CIDRs exactly, or any address when a name is among them, on allowPort (all ports when empty).
 */
export function agentEgress(input: BuildInput): V1NetworkPolicyEgressRule[] {
  const rules: V1NetworkPolicyEgressRule[] = [{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }];
  const endpoints = oidcEndpoints(input.agentConfig);
  if (agentNeedsApi(input) || endpoints.some((e) => API_SERVER_NAME.test(e.host))) rules.push(apiServerRule(input.apiServer));
  for (const e of endpoints) if (!API_SERVER_NAME.test(e.host)) rules.push({ to: peersOf(e.host), ports: tcp([e.port]) });
  // The agent itself calls the targets of its declared tools and resources.
  for (const e of catalogEndpoints(input.agentConfig)) rules.push({ to: peersOf(e.host), ports: tcp([e.port]) });
  if (input.spec.type === 'Remote' && input.spec.url) {
    const u = new URL(input.spec.url);
    rules.push({ to: peersOf(u.hostname), ports: tcp([Number(u.port || (u.protocol === 'https:' ? 443 : 80))]) });
  }
  const egress = input.agentConfig.egress;
  if (egress && (egress.allowHost.length || egress.allowPort.length)) {
    const entries = egress.allowHost.map(parseHostEntry);
    const networks = entries.flatMap((e) => (e?.kind === 'network' ? [{ ipBlock: { cidr: `${e.address}/${e.bits}` } }] : []));
    const to = egress.allowHost.length === 0 || networks.length < entries.length ? ANY_ADDRESS : networks;
    rules.push({ to, ...(egress.allowPort.length ? { ports: tcp(egress.allowPort) } : {}) });
  }
  return mergeRules(rules);
}

/**
 * Ingress: only the agent's ports, MCP and ops (nobody reaches the server around the agent).
 * Egress: not restricted without a permissionProfile or with insecureAllowAll; else default-deny
 * with agentEgress (docs/reconciler.md says what this does not stop).
 */
export function buildNetworkPolicy(input: BuildInput): V1NetworkPolicy {
  const { ref } = input;
  const restrictEgress = egressRestricted(input.permissions);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(input, baseName(ref)),
    spec: {
      podSelector: { matchLabels: selectorLabels(ref) },
      policyTypes: restrictEgress ? ['Ingress', 'Egress'] : ['Ingress'],
      // The agent's two ports: MCP, and ops (the kubelet's probes, Prometheus).
      ingress: [{ ports: [{ protocol: 'TCP', port: agentPort(input.spec) }, { protocol: 'TCP', port: agentOpsPort(input) }] }],
      ...(restrictEgress ? { egress: agentEgress(input) } : {}),
    },
  };
}

/** attach bridge: the agent attaches to the server container of its own pod. */
export function buildAttachRBAC(input: BuildInput): [V1Role, V1RoleBinding] | [] {
  if (bridgeMode(input.spec) !== 'attach') return [];
  const name = roleName(input.ref);
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(input, name),
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(input, name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: input.spec.serviceAccount ?? serviceAccountName(input.ref), namespace: input.ref.namespace }],
    },
  ];
}

/**
 * Voluntary disruptions (node drains) take one pod at a time: with replicas > 1 the server keeps
 * serving; with one replica a drain is still possible (minAvailable: 1 would block it for good).
 */
export function buildPodDisruptionBudget(input: BuildInput): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(input, baseName(input.ref)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(input.ref) } },
  };
}

/** Every object of the server, in apply order. */
export function buildAll(input: BuildInput): DesiredObject[] {
  const sa = buildServiceAccount(input);
  return [
    ...(sa ? [sa] : []),
    buildConfigMap(input),
    ...buildAttachRBAC(input),
    buildService(input),
    buildNetworkPolicy(input),
    buildPodDisruptionBudget(input),
    buildDeployment(input),
  ];
}

export const OWNED_KINDS = ['ServiceAccount', 'ConfigMap', 'Role', 'RoleBinding', 'Service', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

export { MCPSERVER_KIND };
