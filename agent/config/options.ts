import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { AgentConfigInput, AgentTls } from '../../api/agent-config.js';
import { AGENT_RUNTIME_KEYS, DEFAULT_SEPARATOR, LOG_LEVELS } from '../../api/agent-constants.js';
import { optionHelpLines, resolveOptions, UsageError, type OptionTable, type RawValue } from '../../api/cli.js';
import type { AgentEgress } from '../../api/egress.js';
import { allowHostIssues } from '../../api/egress-hosts.js';
import type { AgentBackend, AggregateSettings } from '../../api/agent-backends.js';
import { SESSION_MODES } from '../../api/v1beta1/defaults.js';

export { UsageError } from '../../api/cli.js';

/** Everything the agent can be told, after flags, env and the config file are merged. */
export interface AgentOptions {
  host: string;
  port: number;
  /** Port of /healthz, /readyz, /metrics alone (plain HTTP); unset: they are served on `port`. */
  opsPort: number | undefined;
  /** HTTPS on `port` (files re-read when they change). */
  tls: AgentTls | undefined;
  /** Stdio upstream: the server command and its arguments (after `--`). */
  command: string[];
  upstream: string | undefined;
  upstreamTransport: 'auto' | 'streamable-http' | 'sse';
  /** Headers for an HTTP upstream, each value read from a file (config file only: credentials stay out of argv). */
  upstreamHeaders: { name: string; file: string; prefix?: string }[];
  /** OAuth 2 client credentials for an HTTP upstream (config file only, like the headers). */
  upstreamClientCredentials: { issuer: string; clientId: string; clientSecretFile: string; scopes?: string[] } | undefined;
  upstreamFifo: string | undefined;
  upstreamAttach: string | undefined;
  /** No MCP server: the agent serves the config's catalog alone (an MCPServer of type Catalog). */
  catalogOnly: boolean;
  /** Several servers behind this endpoint, their lists merged (config file only: docs/aggregate.md). */
  backends: AgentBackend[] | undefined;
  aggregate: AggregateSettings;
  sessionMode: 'shared' | 'per-session';
  maxSessions: number;
  maxProcesses: number;
  sessionIdleTimeout: number;
  requestTimeout: number;
  initializeTimeout: number;
  maxBodyBytes: number;
  allowedOrigins: string[];
  /** Host header values accepted besides the bind's own names (DNS-rebinding protection). */
  allowedHosts: string[];
  eventBuffer: number;
  shutdownTimeout: number;
  logLevel: string;
  tty: boolean;
  /** This pod's IP (downward API): 2026-07-28 retries are forwarded to the replica holding the call. */
  podIp: string | undefined;
  /** Key shared by replicas to sign 2026-07-28 requestState (unset: a random per-process key). */
  stateKey: string | undefined;
  /** The key before the last rotation: ids sealed with it still open. */
  stateKeyPrevious: string | undefined;
  /** auto: probe the stdio upstream for 2026-07-28; legacy / modern: skip the probe. */
  upstreamProtocol: 'auto' | 'legacy' | 'modern';
  config: string | undefined;
  /** --oidc-config-file / --cedar-policies: files the policy sections are completed from (and reloaded from). */
  oidcConfigFile: string | undefined;
  cedarPolicies: string | undefined;
  /** --api-keys-file / --basic-users-file: the ApiKey and Basic methods, when the config has no authentication. */
  apiKeysFile: string | undefined;
  basicUsersFile: string | undefined;
  /** The policy sections of the config file (oidcConfig, authzConfig, toolsFilter, …), validated by the policy layer. */
  policy: Record<string, unknown>;
  /** The allow-listing egress proxy for the server (config `egress`, or the --egress-* flags). */
  egress: AgentEgress | undefined;
}

/** One table drives flags, env vars (`OME_MCP_<NAME>`), config-file keys (camelCase) and `--help`. */
const SPECS: OptionTable = {
  host: { type: 'string', default: '127.0.0.1', placeholder: 'addr', help: 'address to listen on (0.0.0.0 in a pod)' },
  port: { type: 'string', default: '8080', placeholder: 'n', help: 'port for /mcp, /sse, /ws (and /healthz, /readyz, /metrics without --ops-port; 0 = any free port)' },
  'ops-port': { type: 'string', placeholder: 'n', help: 'serve /healthz, /readyz, /metrics on this port alone, plain HTTP for probes and Prometheus (the MCP port then 404s them)' },
  'tls-cert-file': { type: 'string', placeholder: 'file', help: 'serve HTTPS with this certificate chain (PEM); re-read when it changes, no restart' },
  'tls-key-file': { type: 'string', placeholder: 'file', help: 'the private key of --tls-cert-file (PEM)' },
  'tls-client-ca-file': { type: 'string', placeholder: 'file', help: 'request client certificates and verify them against these CAs (PEM); authentication decides who may call' },
  upstream: { type: 'string', placeholder: 'url', help: 'an HTTP MCP server instead of a command (streamable HTTP, falling back to SSE)' },
  'upstream-transport': { type: 'string', default: 'auto', placeholder: 'kind', help: 'auto | streamable-http | sse, for --upstream' },
  'catalog-only': { type: 'boolean', help: "no MCP server: serve only the config's catalog (declared tools, prompts and resources)" },
  'upstream-fifo': { type: 'string', placeholder: 'dir', help: 'in-pod FIFO bridge: the server reads <dir>/in and writes <dir>/out' },
  'upstream-attach': { type: 'string', placeholder: 'ns/pod/ctr', help: "in-pod attach bridge: the container's stdin/stdout via the Kubernetes attach API" },
  'session-mode': { type: 'string', default: 'shared', placeholder: 'mode', help: 'shared (one server for all sessions) | per-session (a process per session)' },
  'max-sessions': { type: 'string', default: '10000', placeholder: 'n', help: 'open client sessions allowed at once' },
  'max-processes': { type: 'string', default: '32', placeholder: 'n', help: 'per-session mode: server processes allowed at once' },
  'session-idle-timeout': { type: 'string', default: '1800', placeholder: 's', help: 'end sessions idle this many seconds' },
  'request-timeout': { type: 'string', default: '60', placeholder: 's', help: 'answer a request with a timeout error after this many seconds' },
  'initialize-timeout': { type: 'string', default: '30', placeholder: 's', help: 'give up on a server that does not answer initialize' },
  'max-body-bytes': { type: 'string', default: String(4 * 1024 * 1024), placeholder: 'n', help: 'largest request body accepted (413 above)' },
  'allowed-origins': { type: 'string', default: '', placeholder: 'list', help: 'comma-separated Origins allowed besides same-origin and loopback (* = any)' },
  'allowed-hosts': { type: 'string', default: '', placeholder: 'list', help: 'comma-separated Host names (host or host:port) accepted besides the bind address and loopback names (* = any)' },
  'event-buffer': { type: 'string', default: '256', placeholder: 'n', help: 'SSE events kept per session for Last-Event-ID resumption' },
  'shutdown-timeout': { type: 'string', default: '25', placeholder: 's', help: 'on SIGTERM, wait this long for in-flight requests' },
  'log-level': { type: 'string', default: 'info', placeholder: 'level', help: 'trace | debug | info | warn | error' },
  tty: { type: 'boolean', help: 'run the stdio server under a pseudo-terminal (for servers that misbehave without one)' },
  'pod-ip': { type: 'string', placeholder: 'ip', help: "this pod's IP, for forwarding 2026-07-28 retries between replicas (the injector sets it)" },
  'state-key': { type: 'string', placeholder: 'secret', help: 'key replicas share: seals 2025 session ids (any replica resumes a session) and signs 2026-07-28 requestState (prefer the env var)' },
  'state-key-previous': { type: 'string', placeholder: 'secret', help: 'the state key before a rotation: session ids sealed with it still resume (prefer the env var)' },
  'upstream-protocol': { type: 'string', default: 'auto', placeholder: 'rev', help: 'auto (probe a stdio server for 2026-07-28) | legacy | modern' },
  config: { type: 'string', placeholder: 'file', help: 'the agent config (JSON or YAML, api/agent-config.ts): the options above in camelCase, upstream, and the policy sections' },
  'oidc-config-file': { type: 'string', placeholder: 'file', help: 'inline OIDC settings (issuer, audience, jwksURL, …) as JSON/YAML, e.g. a mounted ConfigMap; used when the config has no oidcConfig' },
  'api-keys-file': { type: 'string', placeholder: 'file', help: 'accept API keys (header X-API-Key) listed by SHA-256 in this YAML/JSON file ({hash, principal, groups}); used when the config has no authentication' },
  'basic-users-file': { type: 'string', placeholder: 'file', help: 'accept Basic credentials checked against the bcrypt/argon2 hashes of this YAML/JSON file ({user, hash, groups}); used when the config has no authentication' },
  'cedar-policies': { type: 'string', placeholder: 'path', help: 'Cedar policies: a .cedar file, a ToolHive authz config (JSON/YAML), or a directory of them; used when the config has no authzConfig' },
  'egress-port': { type: 'string', placeholder: 'n', help: 'run the allow-listing egress proxy on 127.0.0.1:<n> (the server\'s HTTP_PROXY/HTTPS_PROXY); the next two say what it allows' },
  'egress-allow-host': { type: 'string', placeholder: 'list', help: 'comma-separated hosts: name, .domain (and names under it), *.domain, IP, CIDR (empty: any host on the ports)' },
  'egress-allow-port': { type: 'string', placeholder: 'list', help: 'comma-separated ports (empty: any port of the hosts; both empty: nothing)' },
  help: { type: 'boolean', help: 'show this help' },
  version: { type: 'boolean', help: 'print the version' },
};

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
const ENV_PREFIX = 'OME_MCP_';

export function helpText(): string {
  const lines = [
    'ome-mcp-agent: put an MCP server behind an authenticated, observable HTTP endpoint.',
    '',
    'Usage:',
    '  ome-mcp-agent [options] -- <command> [args...]   wrap a stdio MCP server',
    '  ome-mcp-agent [options] --upstream <url>          front an HTTP MCP server',
    '  ome-mcp-agent [options] --config servers.yaml     several servers (`backends`) behind one endpoint',
    '',
    'Endpoints: /mcp (streamable HTTP), /sse + /messages (legacy HTTP+SSE), /ws (WebSocket),',
    '           /.well-known/oauth-protected-resource; /healthz, /readyz, /metrics (on --ops-port when set)',
    '',
    'Options (each also as env OME_MCP_<NAME>, e.g. OME_MCP_PORT=9000, and as a config-file key):',
  ];
  lines.push(...optionHelpLines(SPECS, 34));
  lines.push('', 'Example:', '  ome-mcp-agent --port 8080 -- npx @modelcontextprotocol/server-everything');
  return lines.join('\n');
}

/**
 * Merges defaults < config file < env < flags. Rejects with a UsageError naming the bad option.
 * Asynchronous because the config file's validator (typebox, ~50 ms and ~12 MB of RSS) loads only
 * when a file is given: an agent started with flags alone never loads it.
 */
export async function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<AgentOptions & { help: boolean; version: boolean }> {
  const dashdash = argv.indexOf('--');
  const flagArgs = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  let file: AgentConfigInput = {};
  const { value: raw, flags, positionals } = resolveOptions(SPECS, flagArgs, env, ENV_PREFIX, (flag) => fileValue(file, flag));
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${positionals[0]}: put the server command after --`);
  }
  const configPath = raw('config') as string | undefined;
  file = configPath ? await readAgentConfig(configPath) : {};

  const str = (flag: string) => raw(flag) as string | undefined;
  const num = (flag: string, min: number): number => {
    const value = Number(raw(flag));
    if (!Number.isFinite(value) || value < min) throw new UsageError(`--${flag} must be a number ≥ ${min}, got ${String(raw(flag))}`);
    return value;
  };
  const oneOf = <T extends string>(flag: string, allowed: readonly T[]): T => {
    const value = str(flag) as T;
    if (!allowed.includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${value}`);
    return value;
  };

  const options = {
    host: str('host')!,
    port: num('port', 0),
    opsPort: raw('ops-port') === undefined ? undefined : num('ops-port', 0),
    tls: tlsFiles(str('tls-cert-file'), str('tls-key-file'), str('tls-client-ca-file')),
    command: command.length > 0 ? command : [...(file.upstream?.command ?? [])],
    upstream: str('upstream'),
    upstreamTransport: oneOf('upstream-transport', ['auto', 'streamable-http', 'sse'] as const),
    upstreamHeaders: (file.upstream?.headers ?? []).map((h) => ({ name: h.name!, file: h.file!, ...(h.prefix !== undefined ? { prefix: h.prefix } : {}) })),
    upstreamClientCredentials: file.upstream?.clientCredentials as AgentOptions['upstreamClientCredentials'],
    catalogOnly: raw('catalog-only') === true,
    backends: file.backends as AgentBackend[] | undefined,
    aggregate: { collision: file.aggregate?.collision ?? 'prefix', separator: file.aggregate?.separator ?? DEFAULT_SEPARATOR, failMode: file.aggregate?.failMode ?? 'open' },
    upstreamFifo: str('upstream-fifo'),
    upstreamAttach: str('upstream-attach'),
    sessionMode: oneOf('session-mode', SESSION_MODES),
    maxSessions: num('max-sessions', 1),
    maxProcesses: num('max-processes', 1),
    sessionIdleTimeout: num('session-idle-timeout', 1),
    requestTimeout: num('request-timeout', 0.001),
    initializeTimeout: num('initialize-timeout', 0.001),
    maxBodyBytes: num('max-body-bytes', 1024),
    allowedOrigins: (str('allowed-origins') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowedHosts: (str('allowed-hosts') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    eventBuffer: num('event-buffer', 0),
    shutdownTimeout: num('shutdown-timeout', 0),
    logLevel: oneOf('log-level', LOG_LEVELS),
    tty: raw('tty') === true,
    podIp: str('pod-ip'),
    stateKey: str('state-key'),
    stateKeyPrevious: str('state-key-previous'),
    upstreamProtocol: oneOf('upstream-protocol', ['auto', 'legacy', 'modern'] as const),
    config: configPath,
    oidcConfigFile: str('oidc-config-file'),
    cedarPolicies: str('cedar-policies'),
    apiKeysFile: str('api-keys-file'),
    basicUsersFile: str('basic-users-file'),
    policy: policySections(file, str('oidc-config-file'), str('cedar-policies'), str('api-keys-file'), str('basic-users-file')),
    egress: egressOptions(str('egress-port'), str('egress-allow-host'), str('egress-allow-port')),
    help: flags.help === true,
    version: flags.version === true,
  };
  if (options.help || options.version) return options;
  const upstreams = [options.command.length > 0, !!options.upstream, !!options.upstreamFifo, !!options.upstreamAttach, options.catalogOnly, !!options.backends].filter(Boolean).length;
  if (upstreams === 0) {
    const declared = file.upstream?.transport === 'stdio' ? ` (${configPath} declares a stdio upstream: in a pod the injector adds the bridge flag)` : '';
    throw new UsageError(`no MCP server given${declared}: add \`-- <command> [args…]\`, --upstream <url>, --upstream-fifo, --upstream-attach, --catalog-only or backends in the config file`);
  }
  if (upstreams > 1) throw new UsageError('give exactly one of: a command after --, --upstream, --upstream-fifo, --upstream-attach, --catalog-only, backends (config file)');
  if (options.upstream) {
    let url: URL;
    try {
      url = new URL(options.upstream);
    } catch {
      throw new UsageError(`--upstream must be a URL, got ${options.upstream}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--upstream must be an http(s) URL');
  }
  if (options.opsPort !== undefined && options.opsPort !== 0 && options.opsPort === options.port) {
    throw new UsageError(`--ops-port must differ from --port (both ${options.port})`);
  }
  if (options.sessionMode === 'per-session' && options.command.length === 0 && !options.upstream && !options.backends) {
    throw new UsageError('--session-mode per-session needs a server command (a process per session), --upstream (an upstream session per client session) or backends (each session its own)');
  }
  return options;
}

/**
 * The policy sections as the files say now (a reload). Throws UsageError naming the file and field
 * when one is unreadable or invalid.
 */
export async function readPolicySections(options: Pick<AgentOptions, 'config' | 'oidcConfigFile' | 'cedarPolicies'> & Partial<Pick<AgentOptions, 'apiKeysFile' | 'basicUsersFile'>>): Promise<Record<string, unknown>> {
  return policySections(options.config ? await readAgentConfig(options.config) : {}, options.oidcConfigFile, options.cedarPolicies, options.apiKeysFile, options.basicUsersFile);
}

/** The TLS flags as one setting: a certificate needs its key, a client CA needs both. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined, clientCAFile: string | undefined): AgentTls | undefined {
  if (!certFile && !keyFile && !clientCAFile) return undefined;
  if (!certFile || !keyFile) throw new UsageError(`--tls-cert-file and --tls-key-file go together${clientCAFile ? ' (--tls-client-ca-file needs both)' : ''}`);
  return { certFile, keyFile, ...(clientCAFile ? { clientCAFile } : {}) };
}

/**
 * The policy part of the config file, completed from --oidc-config-file / --cedar-policies (the
 * injector mounts the ConfigMaps named by pod annotations and passes their paths in env).
 */
function policySections(file: AgentConfigInput, oidcFile: string | undefined, cedarPath: string | undefined, apiKeysFile?: string, basicUsersFile?: string): Record<string, unknown> {
  const policy: Record<string, unknown> = Object.fromEntries(Object.entries(file).filter(([k]) => !RUNTIME_KEYS.has(k) && !NOT_POLICY.has(k)));
  if (oidcFile && policy.oidcConfig === undefined) {
    // Either a whole oidcConfig (`type: …`) or just its inline settings (`issuer: …`).
    const doc = readConfigFile(oidcFile);
    policy.oidcConfig = 'type' in doc ? doc : { type: 'inline', inline: doc };
  }
  if (cedarPath && policy.authzConfig === undefined) policy.authzConfig = { type: 'file', file: { policyPaths: [cedarPath] } };
  // The flags' methods in this order, then Bearer when OIDC is configured (what it was without them).
  if ((apiKeysFile || basicUsersFile) && policy.authentication === undefined) {
    policy.authentication = {
      methods: [
        ...(apiKeysFile ? [{ type: 'ApiKey', keysFile: apiKeysFile }] : []),
        ...(basicUsersFile ? [{ type: 'Basic', usersFile: basicUsersFile }] : []),
        ...(policy.oidcConfig !== undefined ? [{ type: 'Bearer' }] : []),
      ],
    };
  }
  return policy;
}

const RUNTIME_KEYS = new Set<string>(AGENT_RUNTIME_KEYS);
/** Sections of the file that are neither runtime settings nor policy. */
const NOT_POLICY = new Set(['upstream', 'tls', 'backends', 'aggregate']);

/** The egress proxy from its three settings (flags, env or the config's `egress`); none without a port. */
function egressOptions(port: string | undefined, hosts: string | undefined, ports: string | undefined): AgentEgress | undefined {
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (port === undefined) {
    if (hosts || ports) throw new UsageError('--egress-allow-host / --egress-allow-port need --egress-port');
    return undefined;
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--egress-port must be a port (0-65535), got ${port}`);
  const allowPort = list(ports).map((p) => {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new UsageError(`--egress-allow-port: ${p} is not a port`);
    return v;
  });
  const allowHost = list(hosts);
  const issue = allowHostIssues('--egress-allow-host', allowHost)[0];
  if (issue) throw new UsageError(`${issue.path}: ${issue.message}`);
  return { port: n, allowHost, allowPort };
}

/** The config file's `egress` keys by flag. */
const EGRESS_FLAG_KEYS: Record<string, keyof AgentEgress> = { 'egress-port': 'port', 'egress-allow-host': 'allowHost', 'egress-allow-port': 'allowPort' };
/** The config file's `tls` keys by flag. */
const TLS_FLAG_KEYS: Record<string, keyof AgentTls> = { 'tls-cert-file': 'certFile', 'tls-key-file': 'keyFile', 'tls-client-ca-file': 'clientCAFile' };

/**
 * The config file's value for a flag, as the option resolver reads it (flags and env override it).
 * Runtime settings have the flag's name in camelCase; the upstream URL and transport come from
 * `upstream`. Everything else in the file is policy.
 */
function fileValue(file: AgentConfigInput, flag: string): RawValue {
  const up = file.upstream;
  if (flag === 'upstream') return up?.url;
  if (flag === 'upstream-transport') return up?.url && up.transport !== 'stdio' ? up.transport : undefined;
  if (flag in EGRESS_FLAG_KEYS) {
    const v = file.egress?.[EGRESS_FLAG_KEYS[flag]!];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : String(v);
  }
  if (flag.startsWith('tls-')) return file.tls?.[TLS_FLAG_KEYS[flag]!];
  const key = camel(flag);
  if (!RUNTIME_KEYS.has(key)) return undefined;
  const value = (file as Record<string, unknown>)[key];
  if (value === undefined || typeof value === 'boolean') return value;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Reads and validates the agent config (errors name the field), keeping what the file itself says. */
async function readAgentConfig(path: string): Promise<AgentConfigInput> {
  const doc = readConfigFile(path);
  const { parseAgentConfig, ValidationError } = await import('../../api/agent-config.js');
  try {
    parseAgentConfig(doc);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`config file ${path}: ${err.message}`);
    throw err;
  }
  return doc as AgentConfigInput;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`config file ${path} must hold a mapping of options`);
  return value as Record<string, unknown>;
}
