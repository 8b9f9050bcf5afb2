// Turns a (schema-valid) server spec into the inputs of the desired objects: the agent config with
// every ConfigMap reference resolved and checked, the effective permission profile, and the
// problems a user must fix (missing Secret/ConfigMap, unparsable Cedar, OIDC without issuer, ...).
// Pure apart from the injected lookups, so it is unit-tested without an API server.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { durationToMs, parseAgentConfig, type AgentConfig, type AgentConfigInput, type AgentTls, type AgentUpstream } from '../../api/agent-config.js';
import {
  CLUSTER_MCPSERVER_KIND,
  InlineAuthzConfig,
  InlineOIDCConfig,
  PermissionProfileSpec,
  type InlineAuthzConfig as InlineAuthz,
  type InlineOIDCConfig as InlineOIDC,
  type MCPServerSpec,
  type OIDCConfigRef,
  type PermissionProfileSpec as Permissions,
} from '../../api/v1beta1/mcpserver.js';
import { IDENTITY_CLIENT_SECRET_FILE, UPSTREAM_CLIENT_SECRET_FILE, UPSTREAM_HEADERS_MOUNT_PATH, TLS_CERT_KEY, TLS_KEY_KEY, TLS_MOUNT_PATH } from '../../api/annotations.js';
import { checkServingPair, ServingPairError } from '../../api/tls.js';
import type { AgentIdentity } from '../../api/v1beta1/identity.js';
import { allowHostIssues, DEFAULT_EGRESS_PORT, type AgentEgress } from '../../api/egress.js';
import { AUTH_FILES_MOUNT_PATH, authFileName, CLIENT_CA_FILE_NAME, type AgentAuthentication } from '../../api/agent-authentication.js';
import { authMethodIssues } from '../../api/v1beta1/authentication.js';
import { check, ValidationError } from '../../api/validate.js';
import { serviceURL, type ServerRef } from './names.js';
import type { AgentCatalog } from '../../api/agent-catalog.js';
import type { AgentBackend, AggregateSettings } from '../../api/agent-backends.js';
import type { ApiServerAddresses } from './api-server.js';

export interface Lookup {
  configMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> | V1ConfigMap | undefined;
  secret(namespace: string, name: string): Promise<V1Secret | undefined> | V1Secret | undefined;
  /** Where the API server is, for a restricted server's NetworkPolicy (api-server.ts). */
  apiServer?(): Promise<ApiServerAddresses | undefined>;
}

/** A ConfigMap or Secret the spec depends on (the reconciler re-runs when one changes). */
export interface Reference {
  kind: 'ConfigMap' | 'Secret';
  namespace: string;
  name: string;
}

export interface Resolved {
  agentConfig?: AgentConfig;
  /** Effective permission profile; undefined when the spec has none. */
  permissions?: Permissions;
  /** The API server's addresses, read when the profile restricts egress. */
  apiServer?: ApiServerAddresses;
  /** Human-readable problems (field path first); empty when the spec can be deployed. */
  problems: string[];
  references: Reference[];
}

/** Path suffix of the upstream URL per HTTP transport (the spec has no path field). */
export const UPSTREAM_PATH: Record<'streamable-http' | 'sse', string> = { 'streamable-http': '/mcp', sse: '/sse' };

export const BUILTIN_PROFILES: Record<'none' | 'network', Permissions> = {
  none: { read: [], write: [], network: { outbound: { insecureAllowAll: false, allowHost: [], allowPort: [] } } },
  network: { read: [], write: [], network: { outbound: { insecureAllowAll: true } } },
};

/** Does the profile restrict egress (default-deny, the egress proxy, a narrowed NetworkPolicy)? */
export function egressRestricted(permissions: Permissions | undefined): boolean {
  return permissions !== undefined && permissions.network?.outbound?.insecureAllowAll !== true;
}

/** Where the profile's fields are, for problems: the inline spec or the ConfigMap that held it. */
function profileWhere(spec: MCPServerSpec): string {
  const pp = spec.permissionProfile;
  return pp?.type === 'configMap' && pp.configMap ? `spec.permissionProfile.configMap(${pp.configMap.name})` : `spec.permissionProfile.${pp?.type === 'inline' ? 'inline' : `builtin(${pp?.name})`}`;
}

/**
 * The agent's egress proxy for a restricted profile (Hosted servers only: a Remote server has no
 * server container to proxy). Its port on the pod's loopback keeps clear of the server's own.
 */
function egressSettings(spec: MCPServerSpec, permissions: Permissions | undefined, where: string, problems: string[]): AgentEgress | undefined {
  if (!egressRestricted(permissions)) return undefined;
  const outbound = permissions?.network?.outbound;
  const allowHost = [...(outbound?.allowHost ?? [])];
  const issues = allowHostIssues(`${where}.network.outbound.allowHost`, allowHost);
  problems.push(...issues.map((i) => `${i.path}: ${i.message}`));
  const taken = new Set([spec.port ?? 8080, spec.targetPort ?? 8080]);
  let port = DEFAULT_EGRESS_PORT;
  while (taken.has(port)) port++;
  return issues.length ? undefined : { port, allowHost, allowPort: [...(outbound?.allowPort ?? [])] };
}

/**
 * read and write paths are absolute and not both. A `read` path on one of the spec's volumes makes
 * that mount read-only (desired.ts); one on no volume is the image's own, read-only already (the
 * server runs with a read-only root filesystem).
 */
function pathProblems(permissions: Permissions | undefined): string[] {
  const out: string[] = [];
  const writes = new Set(permissions?.write ?? []);
  for (const field of ['read', 'write'] as const) {
    for (const [i, p] of (permissions?.[field] ?? []).entries()) {
      if (!p.startsWith('/')) out.push(`spec.permissionProfile.${field}[${i}]: ${JSON.stringify(p)} is not an absolute path`);
      else if (field === 'read' && writes.has(p)) out.push(`spec.permissionProfile.read[${i}]: ${p} is also a write path`);
    }
  }
  return out;
}

/** Does the pod run the MCP server (Hosted)? A Remote server is elsewhere; a Catalog server has none. */
export const runsServer = (spec: Pick<MCPServerSpec, 'type'>) => (spec.type ?? 'Hosted') === 'Hosted';

/** Remote servers always speak HTTP; a Remote `stdio` (the API default) means streamable HTTP. */
export function upstreamTransport(spec: MCPServerSpec): 'stdio' | 'streamable-http' | 'sse' {
  const t = spec.transport ?? 'stdio';
  if (spec.type === 'Remote' && t === 'stdio') return 'streamable-http';
  return t;
}

function cedarProblems(where: string, authz: InlineAuthz): string[] {
  const out: string[] = [];
  authz.policies.forEach((p, i) => {
    const r = cedar.checkParsePolicySet({ staticPolicies: p });
    if (r.type === 'failure') out.push(`${where}.policies[${i}]: invalid Cedar policy: ${r.errors.map((e) => e.message).join('; ')}`);
  });
  if (authz.entitiesJSON !== undefined) {
    let entities: unknown;
    try {
      entities = JSON.parse(authz.entitiesJSON);
    } catch (e) {
      out.push(`${where}.entitiesJSON: invalid JSON: ${(e as Error).message}`);
      return out;
    }
    const r = cedar.checkParseEntities({ entities: entities as cedar.EntitiesParsingCall['entities'] });
    if (r.type === 'failure') out.push(`${where}.entitiesJSON: invalid Cedar entities: ${r.errors.map((e) => e.message).join('; ')}`);
  }
  return out;
}

async function configMapJSON(
  lookup: Lookup,
  refs: Reference[],
  problems: string[],
  where: string,
  namespace: string,
  name: string,
  key: string,
): Promise<unknown> {
  refs.push({ kind: 'ConfigMap', namespace, name });
  const cm = await lookup.configMap(namespace, name);
  if (!cm) {
    problems.push(`${where}: ConfigMap ${namespace}/${name} not found`);
    return undefined;
  }
  const text = cm.data?.[key];
  if (text === undefined) {
    problems.push(`${where}: ConfigMap ${namespace}/${name} has no key ${JSON.stringify(key)}`);
    return undefined;
  }
  // A `.cedar` key holds Cedar policy text, not JSON (as in OEP-0005's tenant example).
  if (key.endsWith('.cedar')) return { policies: [text] };
  try {
    return JSON.parse(text);
  } catch (e) {
    problems.push(`${where}: ConfigMap ${namespace}/${name} key ${key}: invalid JSON: ${(e as Error).message}`);
    return undefined;
  }
}

function validated<T>(schema: Parameters<typeof check>[0], value: unknown, where: string, problems: string[]): T | undefined {
  const { value: v, issues } = check<T>(schema, value);
  if (issues.length) {
    for (const i of issues) problems.push(`${where}${i.path ? `.${i.path}` : ''}: ${i.message}`);
    return undefined;
  }
  return v;
}

async function secretKey(lookup: Lookup, refs: Reference[], problems: string[], where: string, ns: string, name: string, key: string) {
  refs.push({ kind: 'Secret', namespace: ns, name });
  const s = await lookup.secret(ns, name);
  if (!s) problems.push(`${where}: Secret ${ns}/${name} not found`);
  else if (s.data?.[key] === undefined && s.stringData?.[key] === undefined) problems.push(`${where}: Secret ${ns}/${name} has no key ${JSON.stringify(key)}`);
}

/** spec.upstreamAuth.clientCredentials as the agent config says it: the secret by the file it is mounted at (desired.ts). */
async function upstreamClientCredentials(spec: MCPServerSpec, ns: string, transport: string, lookup: Lookup, refs: Reference[], problems: string[]): Promise<Partial<Pick<AgentUpstream, 'clientCredentials'>>> {
  const cc = spec.upstreamAuth?.clientCredentials;
  if (!cc) return {};
  if (transport === 'stdio') {
    problems.push('spec.upstreamAuth: only an HTTP or Remote upstream takes credentials');
    return {};
  }
  await secretKey(lookup, refs, problems, 'spec.upstreamAuth.clientCredentials.clientSecretRef', ns, cc.clientSecretRef.name, cc.clientSecretRef.key);
  return { clientCredentials: { issuer: cc.issuer, clientId: cc.clientId, clientSecretFile: UPSTREAM_CLIENT_SECRET_FILE, ...(cc.scopes?.length ? { scopes: cc.scopes } : {}) } };
}

/**
 * spec.tls: the agent serves the Secret's certificate from where the pod mutation mounts it. A
 * Secret the agent could not serve (missing, no tls.crt/tls.key, a key that does not fit) is a
 * problem here rather than an agent that fails at start.
 */
async function tlsSettings(spec: MCPServerSpec, lookup: Lookup, refs: Reference[], problems: string[], ns: string): Promise<AgentTls | undefined> {
  if (!spec.tls) return undefined;
  const { secretName: name } = spec.tls;
  const where = `spec.tls.secretName: Secret ${ns}/${name}`;
  refs.push({ kind: 'Secret', namespace: ns, name });
  const secret = await lookup.secret(ns, name);
  if (!secret) {
    problems.push(`${where} not found`);
    return undefined;
  }
  const value = (key: string) => (secret.data?.[key] !== undefined ? Buffer.from(secret.data[key], 'base64') : secret.stringData?.[key]);
  const [cert, key] = [value(TLS_CERT_KEY), value(TLS_KEY_KEY)];
  if (cert === undefined || key === undefined) {
    problems.push(`${where} has no key ${JSON.stringify(cert === undefined ? TLS_CERT_KEY : TLS_KEY_KEY)} (a kubernetes.io/tls Secret holds tls.crt and tls.key)`);
    return undefined;
  }
  try {
    checkServingPair({ cert, key });
  } catch (err) {
    if (!(err instanceof ServingPairError)) throw err;
    problems.push(`${where}: ${err.part === 'key' ? TLS_KEY_KEY : TLS_CERT_KEY} ${err.message}`);
    return undefined;
  }
  return { certFile: `${TLS_MOUNT_PATH}/${TLS_CERT_KEY}`, keyFile: `${TLS_MOUNT_PATH}/${TLS_KEY_KEY}` };
}

/**
 * spec.identity as the agent config says it (the exchange secret by the file it is mounted at).
 * Each session needs an upstream of its own carrying the caller's token: an HTTP or Remote server
 * with session mode per-session. A Hosted stdio server is one process in its own container.
 */
async function identitySettings(spec: MCPServerSpec, ns: string, transport: string, lookup: Lookup, refs: Reference[], problems: string[]): Promise<AgentIdentity | undefined> {
  const id = spec.identity;
  if (!id) return undefined;
  if (!spec.oidcConfig) problems.push("spec.identity: needs oidcConfig (the caller's verified bearer token is what is passed on)");
  if (spec.session?.mode !== 'per-session') problems.push('spec.identity: needs spec.session.mode per-session (each caller gets an upstream session of their own)');
  if (transport === 'stdio' && spec.type !== 'Catalog') problems.push("spec.identity: a Hosted stdio server runs as one process in its own container; use an HTTP or Remote server (a header carries each caller's token)");
  const { exchange, ...rest } = id;
  if (!exchange) return rest;
  await secretKey(lookup, refs, problems, 'spec.identity.exchange.clientSecretRef', ns, exchange.clientSecretRef.name, exchange.clientSecretRef.key);
  const { clientSecretRef: _secret, ...x } = exchange;
  return { ...rest, exchange: { ...x, clientSecretFile: IDENTITY_CLIENT_SECRET_FILE } };
}

/**
 * spec.authentication as the agent reads it: each ApiKey/Basic Secret key a file under
 * AUTH_FILES_MOUNT_PATH (desired.ts mounts them into the agent alone), the ClientCertificate CA
 * one more. The Secrets and ConfigMap must exist; order rules are checked here with spec paths.
 */
async function authenticationSettings(spec: MCPServerSpec, lookup: Lookup, refs: Reference[], problems: string[], ns: string): Promise<{ authentication?: AgentConfigInput['authentication']; clientCAFile?: string }> {
  const a = spec.authentication;
  if (!a) return {};
  const issues = authMethodIssues(a.methods, { oidcConfig: !!spec.oidcConfig, tls: { present: !!spec.tls, field: 'spec.tls' } }, 'spec.authentication.methods');
  problems.push(...issues.map((i) => `${i.path}: ${i.message}`));
  let clientCAFile: string | undefined;
  const methods: AgentAuthentication['methods'] = [];
  for (const [i, m] of a.methods.entries()) {
    const where = `spec.authentication.methods[${i}]`;
    const file = `${AUTH_FILES_MOUNT_PATH}/${authFileName(i)}`;
    if (m.secretRef && (m.type === 'ApiKey' || m.type === 'Basic')) await secretKey(lookup, refs, problems, `${where}.secretRef`, ns, m.secretRef.name, m.secretRef.key);
    if (m.type === 'ApiKey') methods.push({ type: 'ApiKey', keysFile: file, ...(m.header ? { header: m.header } : {}) });
    else if (m.type === 'Basic') methods.push({ type: 'Basic', usersFile: file, ...(m.realm ? { realm: m.realm } : {}) });
    else methods.push({ type: m.type });
    if (m.type === 'ClientCertificate' && m.caRef) {
      const key = m.caRef.key ?? 'ca.crt';
      if ((m.caRef.kind ?? 'Secret') === 'Secret') await secretKey(lookup, refs, problems, `${where}.caRef`, ns, m.caRef.name, key);
      else {
        refs.push({ kind: 'ConfigMap', namespace: ns, name: m.caRef.name });
        const cm = await lookup.configMap(ns, m.caRef.name);
        if (!cm) problems.push(`${where}.caRef: ConfigMap ${ns}/${m.caRef.name} not found`);
        else if (cm.data?.[key] === undefined) problems.push(`${where}.caRef: ConfigMap ${ns}/${m.caRef.name} has no key ${JSON.stringify(key)}`);
      }
      clientCAFile = `${AUTH_FILES_MOUNT_PATH}/${CLIENT_CA_FILE_NAME}`;
    }
  }
  if (issues.length) return {};
  return { authentication: { methods, ...(a.maxFailuresPerMinute ? { maxFailuresPerMinute: a.maxFailuresPerMinute } : {}) }, ...(clientCAFile ? { clientCAFile } : {}) };
}

/** spec.session in the agent's runtime-setting names (durations in seconds). */
function sessionSettings(spec: MCPServerSpec): Pick<AgentConfigInput, 'sessionMode' | 'sessionIdleTimeout' | 'maxSessions' | 'maxProcesses'> {
  const s = spec.session;
  if (!s) return {};
  return {
    ...(s.mode ? { sessionMode: s.mode } : {}),
    ...(s.idleTimeout ? { sessionIdleTimeout: durationToMs(s.idleTimeout) / 1000 } : {}),
    ...(s.maxSessions ? { maxSessions: s.maxSessions } : {}),
    ...(s.maxProcesses ? { maxProcesses: s.maxProcesses } : {}),
  };
}

/**
 * Resolves `spec` (already defaulted) of the server `ref` into an agent config. ConfigMap-based OIDC
 * and authorization are inlined, so the agent needs no API access for its policy and a change of
 * the ConfigMap reaches the agent through the reconciler (which watches ConfigMaps).
 */
export async function resolve(
  ref: ServerRef,
  spec: MCPServerSpec,
  lookup: Lookup,
  opts: { clusterDomain?: string; catalog?: AgentCatalog; backends?: { backends: AgentBackend[]; aggregate?: AggregateSettings } } = {},
): Promise<Resolved> {
  const problems: string[] = [];
  const references: Reference[] = [];
  const ns = ref.namespace;

  // --- secrets → env
  for (const [i, s] of (spec.secrets ?? []).entries()) {
    await secretKey(lookup, references, problems, `spec.secrets[${i}]`, ns, s.name, s.key);
  }
  for (const [i, e] of (spec.env ?? []).entries()) {
    const r = e.valueFrom?.secretKeyRef;
    if (r?.name && !r.optional) await secretKey(lookup, references, problems, `spec.env[${i}].valueFrom.secretKeyRef`, ns, r.name, r.key);
  }

  // --- OIDC
  let oidc: OIDCConfigRef | undefined;
  if (spec.oidcConfig) {
    const o = spec.oidcConfig;
    if (o.type === 'configMap' && o.configMap) {
      const raw = await configMapJSON(lookup, references, problems, 'spec.oidcConfig.configMap', ns, o.configMap.name, o.configMap.key ?? 'oidc.json');
      const inline = raw === undefined ? undefined : validated<InlineOIDC>(InlineOIDCConfig, raw, `spec.oidcConfig.configMap(${o.configMap.name})`, problems);
      if (inline) oidc = { type: 'inline', ...(o.resourceURL ? { resourceURL: o.resourceURL } : {}), inline };
    } else if (o.type === 'kubernetes') {
      // A ClusterMCPServer serves every namespace: its callers' accounts live anywhere.
      const k = o.kubernetes ?? {};
      const who = k.namespace || k.namespaces?.length ? {} : ref.kind === CLUSTER_MCPSERVER_KIND ? { namespaces: ['*'] } : { namespace: ns };
      oidc = { ...o, kubernetes: { ...who, ...k } };
    } else {
      oidc = o;
    }
    const inline = oidc?.inline;
    if (inline?.clientSecretRef) {
      await secretKey(lookup, references, problems, 'spec.oidcConfig.inline.clientSecretRef', ns, inline.clientSecretRef.name, inline.clientSecretRef.key);
    }
  }

  // --- Cedar
  let authz: InlineAuthz | undefined;
  if (spec.authzConfig) {
    const a = spec.authzConfig;
    if (a.type === 'configMap' && a.configMap) {
      const raw = await configMapJSON(lookup, references, problems, 'spec.authzConfig.configMap', ns, a.configMap.name, a.configMap.key ?? 'authz.json');
      authz = raw === undefined ? undefined : validated<InlineAuthz>(InlineAuthzConfig, raw, `spec.authzConfig.configMap(${a.configMap.name})`, problems);
      if (authz) problems.push(...cedarProblems(`spec.authzConfig.configMap(${a.configMap.name})`, authz));
    } else if (a.inline) {
      authz = a.inline;
      problems.push(...cedarProblems('spec.authzConfig.inline', authz));
    }
  }

  // --- permission profile
  let permissions: Permissions | undefined;
  const pp = spec.permissionProfile;
  if (pp) {
    if (pp.type === 'builtin' && pp.name) permissions = BUILTIN_PROFILES[pp.name];
    else if (pp.type === 'inline') permissions = pp.inline;
    else if (pp.type === 'configMap' && pp.configMap) {
      const raw = await configMapJSON(lookup, references, problems, 'spec.permissionProfile.configMap', ns, pp.configMap.name, pp.configMap.key ?? 'permissions.json');
      permissions = raw === undefined ? undefined : validated<Permissions>(PermissionProfileSpec, raw, `spec.permissionProfile.configMap(${pp.configMap.name})`, problems);
    }
  }
  problems.push(...pathProblems(permissions));
  const egress = !runsServer(spec) ? undefined : egressSettings(spec, permissions, profileWhere(spec), problems);
  const apiServer = egressRestricted(permissions) ? await lookup.apiServer?.() : undefined;

  // --- replicas: a per-session server process holds one client's state, another replica cannot serve it
  if ((spec.replicas ?? 1) > 1 && spec.session?.mode === 'per-session' && spec.sessionAffinity === 'None') {
    problems.push('spec.sessionAffinity: a per-session server keeps per-client state; with replicas > 1 it needs ClientIP');
  }

  // --- the agent alone (type Catalog): serving what its selectors pick (catalog/), or, for an
  // MCPGateway (mcpgateway/), the backends it is given
  const agentAlone = spec.type === 'Catalog';
  const catalogOnly = agentAlone && !opts.backends;
  if (catalogOnly) {
    for (const f of ['upstreamHeaders', 'upstreamAuth', 'identity'] as const) if (spec[f] !== undefined) problems.push(`spec.${f}: a Catalog server has no MCP server behind the agent`);
  }

  // --- upstream headers: the agent reads each value from the Secret key mounted for it (desired.ts)
  const transport = upstreamTransport(spec);
  const headers = spec.upstreamHeaders ?? [];
  if (headers.length && transport === 'stdio') problems.push('spec.upstreamHeaders: only an HTTP or Remote upstream takes headers');
  for (const [i, h] of headers.entries()) {
    await secretKey(lookup, references, problems, `spec.upstreamHeaders[${i}].secretKeyRef`, ns, h.secretKeyRef.name, h.secretKeyRef.key);
  }
  const withHeaders = {
    ...(headers.length ? { headers: headers.map((h, i) => ({ name: h.name, file: `${UPSTREAM_HEADERS_MOUNT_PATH}/${i}`, ...(h.prefix !== undefined ? { prefix: h.prefix } : {}) })) } : {}),
    ...(await upstreamClientCredentials(spec, ns, transport, lookup, references, problems)),
  };

  // --- TLS: the Secret's certificate, mounted into the agent by the pod mutation
  const tls = await tlsSettings(spec, lookup, references, problems, ns);

  // --- per-session: the agent opens an upstream per client session; it cannot start a process in another container
  if (spec.session?.mode === 'per-session' && transport === 'stdio' && !agentAlone) {
    problems.push('spec.session.mode: per-session needs an upstream session per client, which a Hosted stdio server (one process in its own container) cannot give; use shared, or an HTTP server');
  }

  // --- client authentication methods: their files mounted into the agent (desired.ts)
  const auth = await authenticationSettings(spec, lookup, references, problems, ns);

  // --- agent config
  const identity = await identitySettings(spec, ns, transport, lookup, references, problems);
  const upstream = agentAlone
    ? undefined
    : spec.type === 'Remote'
      ? { transport, url: spec.url, ...withHeaders }
      : transport === 'stdio'
        ? { transport }
        : { transport, url: `http://127.0.0.1:${spec.targetPort ?? 8080}${UPSTREAM_PATH[transport]}`, ...withHeaders };
  const input: AgentConfigInput = {
    name: ref.name,
    namespace: ns,
    ...(upstream ? { upstream } : opts.backends ? opts.backends : { catalogOnly: true }),
    ...(tls ? { tls } : {}),
    resourceURL: oidc?.resourceURL ?? serviceURL(ref, spec, opts.clusterDomain),
    ...(oidc ? { oidcConfig: oidc } : {}),
    ...(auth.authentication ? { authentication: auth.authentication } : {}),
    ...(authz ? { authzConfig: { type: 'inline', inline: authz } } : {}),
    ...(spec.toolsFilter?.length ? { toolsFilter: spec.toolsFilter } : {}),
    // A Catalog server has no server whose features to hide: its selectors say what it serves.
    // Nor has an MCPGateway: its backends' features are merged and offered.
    ...(agentAlone ? { capabilities: { tools: true, prompts: true, resources: true } } : spec.capabilities ? { capabilities: spec.capabilities } : {}),
    ...(spec.readOnly ? { readOnly: true } : {}),
    ...(spec.approval ? { approval: spec.approval } : {}),
    ...(spec.argumentRules?.length ? { argumentRules: spec.argumentRules } : {}),
    ...(identity ? { identity } : {}),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(spec.audit ? { audit: spec.audit } : {}),
    ...sessionSettings(spec),
    ...(egress ? { egress } : {}),
    ...(opts.catalog ? { catalog: opts.catalog } : {}),
  };
  if (auth.clientCAFile && input.tls) input.tls = { ...input.tls, clientCAFile: auth.clientCAFile };
  let agentConfig: AgentConfig | undefined;
  try {
    agentConfig = parseAgentConfig(input);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    // Paths of the agent config mirror the spec's (oidcConfig.*, authzConfig.*, toolsFilter).
    for (const i of e.issues) problems.push(`${i.path.startsWith('upstream') || i.path === 'resourceURL' ? i.path : `spec.${i.path}`}: ${i.message}`);
  }
  return { agentConfig: problems.length ? undefined : agentConfig, permissions, ...(apiServer ? { apiServer } : {}), problems: [...new Set(problems)], references };
}
