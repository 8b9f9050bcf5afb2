import { readFileSync } from 'node:fs';
import { FEATURE_GATE_MCP_SERVER_SUPPORT } from '../api/annotations.js';
import { envVarName, optionHelpLines, resolveOptions, UsageError, type OptionTable } from '../api/cli.js';
import { DEFAULT_AGENT_RESOURCES, type InjectorSettings } from './mutation/index.js';

export interface InjectorOptions {
  webhookHost: string;
  webhookPort: number;
  healthHost: string;
  healthPort: number;
  /** Mounted Secret with tls.crt/tls.key; unset = self-bootstrap a CA into tlsSecret. */
  tlsDir: string | undefined;
  tlsSecret: string;
  /** Extra SANs for the serving certificate (tests use 127.0.0.1). */
  tlsDnsNames: string[];
  tlsIpAddresses: string[];
  /** Write the CA into the MutatingWebhookConfiguration (always when self-bootstrapping). */
  patchCaBundle: boolean;
  webhookConfig: string;
  service: string;
  namespace: string;
  kubeconfig: string | undefined;
  featureGates: Record<string, boolean>;
  leaderElect: boolean;
  shutdownDelay: number;
  logLevel: string;
  settings: InjectorSettings;
  help: boolean;
  version: boolean;
}

const SPECS: OptionTable = {
  'webhook-host': { type: 'string', default: '0.0.0.0', placeholder: 'addr', help: 'address of the HTTPS admission server' },
  'webhook-port': { type: 'string', default: '8443', placeholder: 'n', help: 'port of the HTTPS admission server (0 = any free port)' },
  'health-host': { type: 'string', default: '0.0.0.0', placeholder: 'addr', help: 'address of /healthz, /readyz, /metrics (plain HTTP)' },
  'health-port': { type: 'string', default: '8081', placeholder: 'n', help: 'port of /healthz, /readyz, /metrics (0 = any free port)' },
  'tls-dir': { type: 'string', placeholder: 'dir', help: 'directory with tls.crt and tls.key (a mounted Secret); unset = self-bootstrap' },
  'tls-secret': { type: 'string', default: 'ome-mcp-injector-tls', placeholder: 'name', help: 'Secret that holds the self-bootstrapped CA and certificate' },
  'tls-dns-names': { type: 'string', default: '', placeholder: 'list', help: 'extra DNS names for the self-bootstrapped certificate (comma-separated)' },
  'tls-ip-addresses': { type: 'string', default: '', placeholder: 'list', help: 'IP addresses for the self-bootstrapped certificate (comma-separated)' },
  'patch-ca-bundle': { type: 'boolean', help: 'with --tls-dir: write its ca.crt into the webhook configuration (self-bootstrap always does)' },
  'webhook-config': { type: 'string', default: 'ome-mcp-injector', placeholder: 'name', help: 'MutatingWebhookConfiguration whose caBundle is managed' },
  service: { type: 'string', default: 'ome-mcp-injector', placeholder: 'name', help: 'Service in front of the webhook (certificate names)' },
  namespace: { type: 'string', placeholder: 'ns', help: "the injector's namespace (default: from the service account, else ome-mcp-system)" },
  kubeconfig: { type: 'string', placeholder: 'file', help: 'kubeconfig (default: in-cluster, then $KUBECONFIG / ~/.kube/config)' },
  'feature-gates': { type: 'string', default: '', placeholder: 'list', help: `e.g. ${FEATURE_GATE_MCP_SERVER_SUPPORT}=true (enables the MCPServer reconciler)` },
  'leader-elect': { type: 'string', default: 'true', placeholder: 'bool', help: 'reconcile only while holding the leader Lease (replicas > 1)' },
  'shutdown-delay': { type: 'string', default: '5', placeholder: 's', help: 'on SIGTERM, report not-ready and keep serving this long before closing' },
  'agent-image': { type: 'string', placeholder: 'image', help: 'agent image to inject (required)' },
  'agent-image-pull-policy': { type: 'string', default: 'IfNotPresent', placeholder: 'policy', help: 'Always | IfNotPresent | Never' },
  'agent-port': { type: 'string', default: '8080', placeholder: 'n', help: 'agent port when a pod has no mcp.ome.io/port' },
  'agent-cpu-request': { type: 'string', default: '50m', placeholder: 'q', help: 'agent CPU request' },
  'agent-memory-request': { type: 'string', default: '64Mi', placeholder: 'q', help: 'agent memory request' },
  'agent-cpu-limit': { type: 'string', default: '', placeholder: 'q', help: 'agent CPU limit (default none: throttling hurts latency)' },
  'agent-memory-limit': { type: 'string', default: '256Mi', placeholder: 'q', help: 'agent memory limit' },
  'agent-log-level': { type: 'string', default: '', placeholder: 'level', help: 'agent --log-level (default: the agent default)' },
  'log-level': { type: 'string', default: 'info', placeholder: 'level', help: 'trace | debug | info | warn | error' },
  help: { type: 'boolean', help: 'show this help' },
  version: { type: 'boolean', help: 'print the version' },
};

export const envName = (flag: string) => envVarName('OME_MCP_INJECTOR_', flag);

export { UsageError } from '../api/cli.js';

export function helpText(): string {
  const lines = [
    'ome-mcp-injector: admission webhook that adds the ome-mcp agent to pods, and the MCPServer reconciler.',
    '',
    'Usage: ome-mcp-injector --agent-image <image> [options]',
    '',
    'Admission paths (HTTPS): /inject/namespace, /inject/pod. Health (HTTP): /healthz, /readyz, /metrics.',
    '',
    'Options (each also as env OME_MCP_INJECTOR_<NAME>, e.g. OME_MCP_INJECTOR_AGENT_IMAGE):',
  ];
  lines.push(...optionHelpLines(SPECS, 36));
  return lines.join('\n');
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;

function defaultNamespace(): string {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'ome-mcp-system';
  } catch {
    return 'ome-mcp-system';
  }
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): InjectorOptions {
  const { value: raw, flags, positionals } = resolveOptions(SPECS, argv, env, 'OME_MCP_INJECTOR_');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const str = (flag: string) => (raw(flag) as string | undefined) ?? '';
  const num = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = Number(str(flag));
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${flag} must be an integer ${min}-${max}, got ${str(flag)}`);
    return v;
  };
  const list = (flag: string) => str(flag).split(',').map((s) => s.trim()).filter(Boolean);
  const bool = (flag: string) => {
    const v = str(flag);
    if (v !== 'true' && v !== 'false') throw new UsageError(`--${flag} must be true or false, got ${v}`);
    return v === 'true';
  };

  const featureGates: Record<string, boolean> = {};
  for (const item of list('feature-gates')) {
    const m = /^([A-Za-z0-9]+)=(true|false)$/.exec(item);
    if (!m) throw new UsageError(`--feature-gates: expected Name=true|false, got ${item}`);
    featureGates[m[1]!] = m[2] === 'true';
  }
  const help = flags.help === true;
  const version = flags.version === true;
  const agentImage = str('agent-image');
  if (!agentImage && !help && !version) throw new UsageError(`--agent-image is required (or ${envName('agent-image')})`);
  const pull = str('agent-image-pull-policy');
  if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) throw new UsageError(`--agent-image-pull-policy must be Always, IfNotPresent or Never, got ${pull}`);
  const logLevel = str('log-level');
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (!levels.includes(logLevel)) throw new UsageError(`--log-level must be one of ${levels.join(', ')}`);
  const agentLogLevel = str('agent-log-level');
  if (agentLogLevel && !levels.includes(agentLogLevel)) throw new UsageError(`--agent-log-level must be one of ${levels.join(', ')}`);

  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const [flag, target, key] of [
    ['agent-cpu-request', requests, 'cpu'],
    ['agent-memory-request', requests, 'memory'],
    ['agent-cpu-limit', limits, 'cpu'],
    ['agent-memory-limit', limits, 'memory'],
  ] as const) {
    const q = str(flag);
    if (!q) continue;
    if (!QUANTITY.test(q)) throw new UsageError(`--${flag} must be a Kubernetes quantity (e.g. 100m, 64Mi), got ${q}`);
    target[key] = q;
  }
  const resources = Object.keys(requests).length || Object.keys(limits).length
    ? { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) }
    : DEFAULT_AGENT_RESOURCES;

  const tlsDir = str('tls-dir') || undefined;
  return {
    webhookHost: str('webhook-host'),
    webhookPort: num('webhook-port', 0, 65535),
    healthHost: str('health-host'),
    healthPort: num('health-port', 0, 65535),
    tlsDir,
    tlsSecret: str('tls-secret'),
    tlsDnsNames: list('tls-dns-names'),
    tlsIpAddresses: list('tls-ip-addresses'),
    patchCaBundle: tlsDir === undefined || raw('patch-ca-bundle') === true,
    webhookConfig: str('webhook-config'),
    service: str('service'),
    namespace: str('namespace') || env.POD_NAMESPACE || defaultNamespace(),
    kubeconfig: str('kubeconfig') || undefined,
    featureGates,
    leaderElect: bool('leader-elect'),
    shutdownDelay: num('shutdown-delay', 0, 600),
    logLevel,
    settings: {
      agentImage,
      imagePullPolicy: pull as InjectorSettings['imagePullPolicy'],
      defaultPort: num('agent-port', 1, 65535),
      resources,
      ...(agentLogLevel ? { logLevel: agentLogLevel } : {}),
    },
    help,
    version,
  };
}
