/**
 * The one pod mutation of ome-mcp, shared by the admission webhook (pods) and the reconciler
 * (Deployment pod templates): a pure function from a pod (or pod template) to the injected pod and
 * the RFC 6902 patch between them, or a denial with a reason a human can act on. It never throws
 * on bad input and never calls the API server.
 *
 * What it adds (docs/injector.md has the full story):
 * - the agent `mcp-agent` as a native sidecar (init container with `restartPolicy: Always`, so it
 *   is started before the server and stopped after it), startup probe on /healthz, readiness on
 *   /readyz — both on its plain-HTTP ops port, which Prometheus scrapes too — resources and a
 *   restrictive security context;
 * - with `mcp.ome.io/tls-secret`: that Secret mounted into the agent alone, which serves HTTPS;
 * - for the `fifo` bridge: a shared emptyDir, an init container `mcp-agent-init` that copies the
 *   agent image's static busybox into it and creates the two FIFOs, and the server container's
 *   command wrapped as `<dir>/busybox sh -c 'exec "$0" "$@" <<dir>/in ><dir>/out' <argv…>`;
 * - for the `attach` bridge: `stdin: true` on the server container and the pod's own
 *   namespace/name (downward API) in the agent's `--upstream-attach`;
 * - for an HTTP upstream (`mcp.ome.io/upstream-url`): the agent only; with no other container in
 *   the pod (a Remote server's agent-only pod) it becomes the pod's regular container.
 */
import type { V1Container, V1ObjectMeta, V1PodSpec, V1ResourceRequirements, V1Volume } from '@kubernetes/client-node';
import {
  AGENT_CONFIG_KEY,
  AGENT_CONFIG_MOUNT_PATH,
  AGENT_CONTAINER_NAME,
  AGENT_ENV,
  ANNOTATION_BACKENDS,
  ANNOTATION_BRIDGE,
  ANNOTATION_CATALOG_ONLY,
  ANNOTATION_CEDAR_CONFIGMAP,
  ANNOTATION_COMMAND,
  ANNOTATION_CONFIG,
  ANNOTATION_INJECT,
  ANNOTATION_INJECTED,
  ANNOTATION_OIDC_CONFIGMAP,
  ANNOTATION_OPS_PORT,
  ANNOTATION_PORT,
  ANNOTATION_TLS_SECRET,
  ANNOTATION_TRANSPORT,
  ANNOTATION_UPSTREAM_URL,
  BRIDGE_DIR,
  BRIDGE_MODES,
  CEDAR_MOUNT_PATH,
  DEFAULT_AGENT_PORT,
  DEFAULT_OPS_PORT,
  MCP_CONTAINER_NAME,
  OIDC_MOUNT_PATH,
  SERVICE_ACCOUNT_MOUNT_PATH,
  TLS_CERT_KEY,
  TLS_KEY_KEY,
  TLS_MOUNT_PATH,
  type BridgeMode,
} from '../../api/annotations.js';
import { diff, type JsonPatchOp } from './json-patch.js';

export { applyPatch, diff, type JsonPatchOp } from './json-patch.js';

/** Name of the init container that prepares the FIFO bridge directory. */
export const BRIDGE_INIT_CONTAINER_NAME = 'mcp-agent-init';
/** Volume names the injector owns (a pod that already uses one of them is refused). */
export const BRIDGE_VOLUME = 'ome-mcp-bridge';
export const CONFIG_VOLUME = 'ome-mcp-config';
export const OIDC_VOLUME = 'ome-mcp-oidc';
export const CEDAR_VOLUME = 'ome-mcp-cedar';
export const AGENT_TOKEN_VOLUME = 'ome-mcp-agent-token';
export const TLS_VOLUME = 'ome-mcp-tls';
/** Names of the agent's container ports: MCP, and the ops endpoints. */
export const AGENT_PORT_NAME = 'mcp-agent';
export const AGENT_OPS_PORT_NAME = 'mcp-agent-ops';
/** Default key of the OIDC ConfigMap when the annotation names no key. */
export const DEFAULT_OIDC_KEY = 'oidc.yaml';

/**
 * The shell line the server container runs under: `$0` is the server's executable, `$@` its args.
 * `exec` makes the server the container's main process (signals reach it, its exit is the
 * container's exit). The shell opens `in` first, then `out` — the same order the agent uses.
 */
export function fifoWrapperScript(dir: string = BRIDGE_DIR): string {
  if (/[\s'"$`\\]/.test(dir)) throw new Error(`FIFO directory must not contain blanks, quotes or $: ${dir}`);
  return `exec "$0" "$@" <${dir}/in >${dir}/out`;
}
export const FIFO_WRAPPER_SCRIPT = fifoWrapperScript();

export interface InjectorSettings {
  /** Agent image (carries /usr/local/bin/busybox for the FIFO bridge). */
  agentImage: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Agent port when the pod has no `mcp.ome.io/port` annotation. */
  defaultPort?: number;
  /** Agent container resources. */
  resources?: V1ResourceRequirements;
  /** Numeric user and group the agent and its init container run as. */
  runAsUser?: number;
  /** Path of the static busybox inside the agent image. */
  busyboxPath?: string;
  /** Agent `--log-level`, when set. */
  logLevel?: string;
}

export const DEFAULT_AGENT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};
export const DEFAULT_RUN_AS_USER = 65532;
export const DEFAULT_BUSYBOX_PATH = '/usr/local/bin/busybox';

/** What a pod or a pod template has in common: metadata and a pod spec. */
export interface PodLike {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

/**
 * Why the injector was asked: `namespace` — the namespace opted in (inject unless the pod says
 * `mcp.ome.io/inject: "false"`, and only pods that have an MCP server container or an upstream
 * URL); `pod` — inject only pods annotated `mcp.ome.io/inject: "true"`; `force` — the reconciler,
 * which builds MCP server pods (annotations still configure the agent).
 */
export type OptIn = 'namespace' | 'pod' | 'force';

export interface MutateInput<T extends PodLike> {
  object: T;
  optIn: OptIn;
  settings: InjectorSettings;
  /** The agent calls the API server for more than attach (cluster tokens): give it credentials. */
  agentNeedsApi?: boolean;
}

export type Upstream =
  | { kind: 'fifo'; container: string; argv: string[] }
  | { kind: 'attach'; container: string }
  | { kind: 'http'; url: string; transport: 'auto' | 'streamable-http' | 'sse' }
  /** No MCP server: the agent serves its config's catalog alone (an MCPServer of type Catalog). */
  | { kind: 'catalog' }
  /** No MCP server in the pod: the agent reaches the `backends` its config lists (an MCPGateway's pod). */
  | { kind: 'backends' };

export type MutateResult<T> =
  | { outcome: 'injected'; allowed: true; object: T; patch: JsonPatchOp[]; upstream: Upstream; warnings: string[] }
  | { outcome: 'skipped'; allowed: true; object: T; patch: []; reason: string; warnings: string[] }
  | { outcome: 'denied'; allowed: false; reason: string; warnings: string[] };

class Denial extends Error {}

/** Returns the injected pod and the patch, or why nothing was done, or why the pod is refused. */
export function mutatePod<T extends PodLike>(input: MutateInput<T>): MutateResult<T> {
  const warnings: string[] = [];
  try {
    return mutate(input, warnings);
  } catch (err) {
    // Denials are expected; anything else is a bug that must not take admission down with it.
    const reason = err instanceof Denial ? err.message : `ome-mcp injector: unexpected error: ${(err as Error)?.message ?? String(err)}`;
    return { outcome: 'denied', allowed: false, reason, warnings };
  }
}

function skip<T>(object: T, reason: string, warnings: string[]): MutateResult<T> {
  return { outcome: 'skipped', allowed: true, object, patch: [], reason, warnings };
}

function mutate<T extends PodLike>({ object, optIn, settings, agentNeedsApi }: MutateInput<T>, warnings: string[]): MutateResult<T> {
  if (!isRecord(object)) throw new Denial('ome-mcp injector: the object is not a pod');
  const spec = object.spec;
  if (!isRecord(spec) || !Array.isArray(spec.containers)) throw new Denial('ome-mcp injector: the pod has no spec.containers');
  const annotations = readAnnotations(object.metadata?.annotations);

  const inject = annotations[ANNOTATION_INJECT];
  if (inject !== undefined && inject !== 'true' && inject !== 'false') {
    throw new Denial(`annotation ${ANNOTATION_INJECT} must be "true" or "false", got ${JSON.stringify(inject)}`);
  }
  if (optIn === 'pod' && inject !== 'true') return skip(object, `not annotated ${ANNOTATION_INJECT}: "true"`, warnings);
  if (optIn === 'namespace' && inject === 'false') return skip(object, `annotated ${ANNOTATION_INJECT}: "false"`, warnings);

  const containers = spec.containers;
  const initContainers = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const existingAgent = [...containers, ...initContainers].some((c) => c?.name === AGENT_CONTAINER_NAME);
  if (existingAgent) {
    if (annotations[ANNOTATION_INJECTED] !== undefined) return skip(object, 'already injected', warnings);
    throw new Denial(
      `the pod already has a container named ${AGENT_CONTAINER_NAME}, which the ome-mcp injector reserves for its agent: ` +
        `rename it, or set ${ANNOTATION_INJECT}: "false" to manage the agent yourself`,
    );
  }
  if (spec.os?.name === 'windows') throw new Denial('ome-mcp injector: Windows pods are not supported');

  // ---- what the annotations ask for ---------------------------------------------------------
  const port = parsePort(ANNOTATION_PORT, annotations[ANNOTATION_PORT]) ?? settings.defaultPort ?? DEFAULT_AGENT_PORT;
  const opsPortAnnotation = parsePort(ANNOTATION_OPS_PORT, annotations[ANNOTATION_OPS_PORT]);
  const tlsSecret = annotations[ANNOTATION_TLS_SECRET] === undefined ? undefined : parseSecretName(ANNOTATION_TLS_SECRET, annotations[ANNOTATION_TLS_SECRET]);
  const upstreamUrl = annotations[ANNOTATION_UPSTREAM_URL];
  const transport = annotations[ANNOTATION_TRANSPORT];
  if (transport !== undefined && !['stdio', 'streamable-http', 'sse'].includes(transport)) {
    throw new Denial(`annotation ${ANNOTATION_TRANSPORT} must be stdio, streamable-http or sse, got ${JSON.stringify(transport)}`);
  }
  const bridgeAnnotation = annotations[ANNOTATION_BRIDGE];
  if (bridgeAnnotation !== undefined && !(BRIDGE_MODES as readonly string[]).includes(bridgeAnnotation)) {
    throw new Denial(`annotation ${ANNOTATION_BRIDGE} must be one of ${BRIDGE_MODES.join(', ')}, got ${JSON.stringify(bridgeAnnotation)}`);
  }
  const commandAnnotation = annotations[ANNOTATION_COMMAND] === undefined ? undefined : parseCommand(annotations[ANNOTATION_COMMAND]);
  const configMap = annotations[ANNOTATION_CONFIG] === undefined ? undefined : parseConfigMapRef(ANNOTATION_CONFIG, annotations[ANNOTATION_CONFIG], false);
  const oidc = annotations[ANNOTATION_OIDC_CONFIGMAP] === undefined ? undefined : parseConfigMapRef(ANNOTATION_OIDC_CONFIGMAP, annotations[ANNOTATION_OIDC_CONFIGMAP], true);
  const cedar = annotations[ANNOTATION_CEDAR_CONFIGMAP] === undefined ? undefined : parseConfigMapRef(ANNOTATION_CEDAR_CONFIGMAP, annotations[ANNOTATION_CEDAR_CONFIGMAP], true);

  // Agent-only pods whose config says what to serve: a catalog (--catalog-only), or backends.
  const agentAlone = ([ANNOTATION_CATALOG_ONLY, ANNOTATION_BACKENDS] as const).filter((a) => {
    const v = annotations[a];
    if (v !== undefined && v !== 'true' && v !== 'false') throw new Denial(`annotation ${a} must be "true" or "false", got ${JSON.stringify(v)}`);
    return v === 'true';
  });

  // ---- which upstream ------------------------------------------------------------------------
  let upstream: Upstream;
  let server: V1Container | undefined;
  if (agentAlone.length > 1) throw new Denial(`annotations ${ANNOTATION_CATALOG_ONLY} and ${ANNOTATION_BACKENDS} exclude each other`);
  if (agentAlone[0]) {
    const which = agentAlone[0];
    for (const a of [ANNOTATION_UPSTREAM_URL, ANNOTATION_BRIDGE, ANNOTATION_TRANSPORT, ANNOTATION_COMMAND]) {
      if (annotations[a] !== undefined) throw new Denial(`annotations ${which} and ${a} exclude each other (the pod has no MCP server)`);
    }
    if (!configMap) throw new Denial(`annotation ${which} needs ${ANNOTATION_CONFIG}: what the agent serves is in its config`);
    if (containers.length > 0) throw new Denial(`annotation ${which}: the pod has containers of its own; this pod is the agent alone`);
    upstream = { kind: which === ANNOTATION_BACKENDS ? 'backends' : 'catalog' };
  } else if (upstreamUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(upstreamUrl);
    } catch {
      throw new Denial(`annotation ${ANNOTATION_UPSTREAM_URL} must be an http(s) URL, got ${JSON.stringify(upstreamUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Denial(`annotation ${ANNOTATION_UPSTREAM_URL} must be an http(s) URL, got ${JSON.stringify(upstreamUrl)}`);
    }
    if (transport === 'stdio') throw new Denial(`annotation ${ANNOTATION_TRANSPORT}: stdio contradicts ${ANNOTATION_UPSTREAM_URL}`);
    if (bridgeAnnotation !== undefined) throw new Denial(`annotations ${ANNOTATION_BRIDGE} and ${ANNOTATION_UPSTREAM_URL} exclude each other`);
    if (isLoopback(url.hostname) && effectivePort(url) === port) {
      throw new Denial(`${ANNOTATION_UPSTREAM_URL} points at the agent's own port ${port}: set ${ANNOTATION_PORT} to another port`);
    }
    upstream = { kind: 'http', url: upstreamUrl, transport: transport === 'sse' || transport === 'streamable-http' ? transport : 'auto' };
  } else {
    if (transport === 'streamable-http' || transport === 'sse') {
      throw new Denial(`annotation ${ANNOTATION_TRANSPORT}: ${transport} needs ${ANNOTATION_UPSTREAM_URL} (where the agent reaches the server)`);
    }
    server = containers.find((c) => c?.name === MCP_CONTAINER_NAME);
    const explicit = inject === 'true' || optIn === 'force';
    if (!server && explicit && containers.length === 1) server = containers[0];
    if (!server) {
      const why = `no MCP server container: name it "${MCP_CONTAINER_NAME}" (or make it the pod's only container), or set ${ANNOTATION_UPSTREAM_URL}`;
      if (!explicit) return skip(object, why, warnings);
      throw new Denial(`ome-mcp injector: ${why}`);
    }
    if (server.tty) throw new Denial(`container ${server.name} has tty: true; a terminal would corrupt the MCP stdio framing`);
    const argv = server.command?.length ? [...server.command, ...(server.args ?? [])] : commandAnnotation ? [...commandAnnotation, ...(server.args ?? [])] : undefined;
    const bridge: BridgeMode = (bridgeAnnotation as BridgeMode | undefined) ?? (argv ? 'fifo' : 'attach');
    if (bridge === 'fifo') {
      if (!argv) {
        throw new Denial(
          `bridge fifo needs the server's command: set command on container ${server.name} or annotation ${ANNOTATION_COMMAND} (a JSON array)`,
        );
      }
      upstream = { kind: 'fifo', container: server.name, argv };
    } else {
      if (!bridgeAnnotation) {
        warnings.push(
          `ome-mcp: the command of container ${server.name} is not in the pod spec, so the agent attaches to it through the Kubernetes API ` +
            `(needs RBAC for pods/attach); set ${ANNOTATION_COMMAND} to use the in-pod FIFO bridge instead`,
        );
      }
      upstream = { kind: 'attach', container: server.name };
    }
  }

  // ---- conflicts ----------------------------------------------------------------------------
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  for (const v of [BRIDGE_VOLUME, CONFIG_VOLUME, OIDC_VOLUME, CEDAR_VOLUME, AGENT_TOKEN_VOLUME, TLS_VOLUME]) {
    if (volumes.some((x) => x?.name === v)) throw new Denial(`the pod already has a volume named ${v}, which the ome-mcp injector reserves`);
  }
  if (initContainers.some((c) => c?.name === BRIDGE_INIT_CONTAINER_NAME) || containers.some((c) => c?.name === BRIDGE_INIT_CONTAINER_NAME)) {
    throw new Denial(`the pod already has a container named ${BRIDGE_INIT_CONTAINER_NAME}, which the ome-mcp injector reserves`);
  }
  for (const c of [...containers, ...initContainers]) {
    for (const p of c?.ports ?? []) {
      if (p?.containerPort === port && (p.protocol ?? 'TCP') === 'TCP') {
        throw new Denial(`container ${c.name} already uses port ${port}, the agent's port: set ${ANNOTATION_PORT} to a free port`);
      }
    }
  }
  const opsPort = opsPortOf(opsPortAnnotation, usedPorts([...containers, ...initContainers], port, upstream));
  if (spec.hostNetwork) warnings.push(`ome-mcp: the pod uses the host network; the agent listens on the node's ports ${port} and ${opsPort}`);

  // ---- build the mutated pod ----------------------------------------------------------------
  const out = structuredClone(object) as T & { spec: V1PodSpec; metadata: V1ObjectMeta };
  out.metadata ??= {};
  const outSpec = out.spec;
  const addVolumes: V1Volume[] = [];
  const agentMounts: NonNullable<V1Container['volumeMounts']> = [];
  const agentArgs = ['--host', '0.0.0.0', '--port', String(port), '--ops-port', String(opsPort)];
  const agentEnv: NonNullable<V1Container['env']> = [
    { name: AGENT_ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: AGENT_ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    // Lets a replica hand a 2026-07-28 input-required retry to the replica holding the call
    // (with a shared OME_MCP_STATE_KEY; docs/modern-protocol.md).
    { name: AGENT_ENV.podIP, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  ];
  const runAs = settings.runAsUser ?? DEFAULT_RUN_AS_USER;
  const agentInit: V1Container[] = [];

  if (upstream.kind === 'fifo') {
    const target = outSpec.containers.find((c) => c.name === upstream.container)!;
    if ((target.volumeMounts ?? []).some((m) => m.mountPath === BRIDGE_DIR)) {
      throw new Denial(`container ${target.name} already mounts something at ${BRIDGE_DIR}, which the FIFO bridge needs`);
    }
    addVolumes.push({ name: BRIDGE_VOLUME, emptyDir: { sizeLimit: '32Mi' } });
    const [exe, ...rest] = upstream.argv;
    target.command = [`${BRIDGE_DIR}/busybox`, 'sh', '-c', FIFO_WRAPPER_SCRIPT, exe!, ...rest];
    delete target.args;
    // Read-only: the server opens the FIFOs (allowed on a read-only mount) but cannot replace busybox.
    target.volumeMounts = [...(target.volumeMounts ?? []), { name: BRIDGE_VOLUME, mountPath: BRIDGE_DIR, readOnly: true }];
    agentMounts.push({ name: BRIDGE_VOLUME, mountPath: BRIDGE_DIR });
    agentArgs.push('--upstream-fifo', BRIDGE_DIR);
    agentInit.push(bridgeInitContainer(settings, runAs));
  } else if (upstream.kind === 'attach') {
    const target = outSpec.containers.find((c) => c.name === upstream.container)!;
    target.stdin = true;
    target.stdinOnce = false;
    // Kubernetes expands $(VAR) in args from the container's env: the pod name is not known at
    // admission time for pods created from a template (generateName).
    agentArgs.push('--upstream-attach', `$(${AGENT_ENV.podNamespace})/$(${AGENT_ENV.podName})/${upstream.container}`);
  } else if (upstream.kind === 'catalog') {
    agentArgs.push('--catalog-only');
  } else if (upstream.kind === 'backends') {
    // nothing to add: --config names the backends
  } else {
    agentArgs.push('--upstream', upstream.url);
    if (upstream.transport !== 'auto') agentArgs.push('--upstream-transport', upstream.transport);
  }

  if (upstream.kind === 'attach' || agentNeedsApi) {
    // The agent's own API credentials. The kubelet's automount would put the token in every
    // container, the server's too; this projection is mounted into the agent only (a pod with
    // automount on still gives its own containers theirs). What the token may do is limited by
    // RBAC and, for attach, by the ome-mcp-attach-own-pod admission policy (docs/injector.md).
    addVolumes.push(agentTokenVolume());
    agentMounts.push({ name: AGENT_TOKEN_VOLUME, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true });
  }
  if (configMap) {
    addVolumes.push({ name: CONFIG_VOLUME, configMap: { name: configMap.name } });
    agentMounts.push({ name: CONFIG_VOLUME, mountPath: AGENT_CONFIG_MOUNT_PATH, readOnly: true });
    agentArgs.push('--config', `${AGENT_CONFIG_MOUNT_PATH}/${configMap.key ?? AGENT_CONFIG_KEY}`);
  }
  if (oidc) {
    addVolumes.push({ name: OIDC_VOLUME, configMap: { name: oidc.name } });
    agentMounts.push({ name: OIDC_VOLUME, mountPath: OIDC_MOUNT_PATH, readOnly: true });
    agentEnv.push({ name: AGENT_ENV.oidcConfigFile, value: `${OIDC_MOUNT_PATH}/${oidc.key ?? DEFAULT_OIDC_KEY}` });
  }
  if (cedar) {
    addVolumes.push({ name: CEDAR_VOLUME, configMap: { name: cedar.name } });
    agentMounts.push({ name: CEDAR_VOLUME, mountPath: CEDAR_MOUNT_PATH, readOnly: true });
    // A directory means every *.cedar file in it.
    agentEnv.push({ name: AGENT_ENV.cedarPolicies, value: cedar.key ? `${CEDAR_MOUNT_PATH}/${cedar.key}` : CEDAR_MOUNT_PATH });
  }
  if (tlsSecret) {
    // The whole Secret, not subPath items: the kubelet updates only whole-volume mounts on renewal.
    addVolumes.push({ name: TLS_VOLUME, secret: { secretName: tlsSecret } });
    agentMounts.push({ name: TLS_VOLUME, mountPath: TLS_MOUNT_PATH, readOnly: true });
    agentArgs.push('--tls-cert-file', `${TLS_MOUNT_PATH}/${TLS_CERT_KEY}`, '--tls-key-file', `${TLS_MOUNT_PATH}/${TLS_KEY_KEY}`);
  }
  if (settings.logLevel) agentArgs.push('--log-level', settings.logLevel);

  const agentOnly = (upstream.kind === 'http' || upstream.kind === 'catalog' || upstream.kind === 'backends') && outSpec.containers.length === 0;
  const agent: V1Container = {
    name: AGENT_CONTAINER_NAME,
    image: settings.agentImage,
    imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
    args: agentArgs,
    env: agentEnv,
    ports: [
      { name: AGENT_PORT_NAME, containerPort: port, protocol: 'TCP' },
      { name: AGENT_OPS_PORT_NAME, containerPort: opsPort, protocol: 'TCP' },
    ],
    // Startup on /healthz, not /readyz: later containers (the server) start only once the sidecar's
    // startup probe passed, and /readyz waits for the server — probing it here would deadlock.
    startupProbe: { httpGet: { path: '/healthz', port: opsPort }, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 2 },
    readinessProbe: { httpGet: { path: '/readyz', port: opsPort }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
    resources: structuredClone(settings.resources ?? DEFAULT_AGENT_RESOURCES),
    securityContext: restrictedSecurityContext(runAs),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...(agentMounts.length ? { volumeMounts: agentMounts } : {}),
  };
  if (agentOnly) {
    outSpec.containers = [agent];
  } else {
    agent.restartPolicy = 'Always';
    outSpec.initContainers = [...agentInit, agent, ...(outSpec.initContainers ?? [])];
  }
  if (addVolumes.length) outSpec.volumes = [...(outSpec.volumes ?? []), ...addVolumes];
  const restartPolicy = outSpec.restartPolicy ?? 'Always';
  if (upstream.kind === 'fifo' && restartPolicy !== 'Always') {
    warnings.push(
      `ome-mcp: restartPolicy ${restartPolicy}: the server exits when the agent restarts (its stdin FIFO reaches EOF) and will not be restarted`,
    );
  }
  out.metadata.annotations = {
    // The usual scrape annotations, unless the pod already points Prometheus elsewhere.
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(opsPort),
    'prometheus.io/path': '/metrics',
    ...(out.metadata.annotations ?? {}),
    [ANNOTATION_INJECTED]: JSON.stringify({ upstream: upstream.kind, image: settings.agentImage }),
  };
  const patch = diff(object, out);
  return { outcome: 'injected', allowed: true, object: out, patch, upstream, warnings };
}

function bridgeInitContainer(settings: InjectorSettings, runAs: number): V1Container {
  const bb = settings.busyboxPath ?? DEFAULT_BUSYBOX_PATH;
  // Idempotent: init containers run again when the pod sandbox is recreated, and the emptyDir
  // (with busybox and the FIFOs) survives that. cp+mv so a busy binary is replaced atomically.
  const script =
    `set -e; cp ${bb} ${BRIDGE_DIR}/.busybox.new && mv -f ${BRIDGE_DIR}/.busybox.new ${BRIDGE_DIR}/busybox; ` +
    `for f in in out; do [ -p ${BRIDGE_DIR}/$f ] || { rm -f ${BRIDGE_DIR}/$f; mkfifo -m 666 ${BRIDGE_DIR}/$f; }; done`;
  return {
    name: BRIDGE_INIT_CONTAINER_NAME,
    image: settings.agentImage,
    imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
    command: [bb, 'sh', '-c', script],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: restrictedSecurityContext(runAs),
    volumeMounts: [{ name: BRIDGE_VOLUME, mountPath: BRIDGE_DIR }],
  };
}

function restrictedSecurityContext(uid: number): NonNullable<V1Container['securityContext']> {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

// ---- annotation parsing ---------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> & PodLike {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readAnnotations(raw: unknown): Record<string, string | undefined> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new Denial('metadata.annotations must be a map of strings');
  return raw as Record<string, string | undefined>;
}

function parsePort(annotation: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new Denial(`annotation ${annotation} must be a port number 1-65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** TCP ports the agent's ops listener must not take: the MCP port, the containers' ports, a loopback upstream's. */
function usedPorts(containers: V1Container[], port: number, upstream: Upstream): Set<number> {
  const used = new Set([port]);
  for (const c of containers) for (const p of c?.ports ?? []) if ((p?.protocol ?? 'TCP') === 'TCP' && typeof p.containerPort === 'number') used.add(p.containerPort);
  if (upstream.kind === 'http') {
    const url = new URL(upstream.url);
    if (isLoopback(url.hostname)) used.add(effectivePort(url));
  }
  return used;
}

/** The first port from DEFAULT_OPS_PORT on that nothing in the pod uses. */
export function freeOpsPort(used: Iterable<number>): number {
  const taken = new Set(used);
  let p = DEFAULT_OPS_PORT;
  while (taken.has(p)) p++;
  return p;
}

function opsPortOf(annotated: number | undefined, used: Set<number>): number {
  if (annotated === undefined) return freeOpsPort(used);
  if (used.has(annotated)) {
    throw new Denial(`annotation ${ANNOTATION_OPS_PORT}: port ${annotated} is already used in the pod (the agent's port, a container port or the upstream's): pick a free one`);
  }
  return annotated;
}

function parseSecretName(annotation: string, value: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) throw new Denial(`annotation ${annotation} must be a Secret name, got ${JSON.stringify(truncate(value))}`);
  return value;
}

/** A JSON array of non-empty strings (exact argv), or a single string (the executable alone). */
export function parseCommand(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Denial(`annotation ${ANNOTATION_COMMAND} is not a valid JSON array: ${truncate(value)}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((s) => typeof s === 'string' && s !== '')) {
      throw new Denial(`annotation ${ANNOTATION_COMMAND} must be a non-empty JSON array of non-empty strings`);
    }
    return parsed as string[];
  }
  if (trimmed === '') throw new Denial(`annotation ${ANNOTATION_COMMAND} is empty`);
  return [trimmed];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function parseConfigMapRef(annotation: string, value: string, allowKey: boolean): { name: string; key?: string } {
  const [name, key, ...extra] = value.split('/');
  const ok =
    name !== undefined &&
    name.length <= 253 &&
    DNS_SUBDOMAIN.test(name) &&
    extra.length === 0 &&
    (key === undefined || (allowKey && key.length <= 253 && CONFIG_KEY.test(key) && key !== '.' && key !== '..'));
  if (!ok) {
    throw new Denial(
      `annotation ${annotation} must be ${allowKey ? 'a ConfigMap name or name/key' : 'a ConfigMap name'}, got ${JSON.stringify(truncate(value))}`,
    );
  }
  return key === undefined ? { name } : { name, key };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}

function effectivePort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/** What the kubelet's service-account automount projects (token, cluster CA, namespace), as one volume. */
function agentTokenVolume(): V1Volume {
  return {
    name: AGENT_TOKEN_VOLUME,
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}
