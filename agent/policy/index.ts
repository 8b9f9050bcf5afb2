// The policy pipeline: authn → authz → filters → limits → audit, behind one narrow object the
// transports call on the hot path. Each stage lives in its own folder with its options and tests;
// this file resolves the agent configuration into stage options once and wires them together.
//
//   const policy = await createPolicyPipeline(config, { logger });
//   const who = policy.authenticate(credentials);                    // sync when the credential is cached
//   if (who instanceof Promise) …; if (isRefusal(who)) → who.status, who.headers, who.toError()
//   const refusal = policy.checkRequest(who, message, sessionId);   // null = allowed
//   const release = policy.admit(who);                               // function, or a Refusal
//   … forward; on the response: result = policy.filterResult(who, method, result); release();
import { AGENT_ENV } from '../../api/annotations.js';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { InlineOIDCConfig } from '../../api/v1beta1/mcpserver.js';
import type { AgentConfig } from '../../api/agent-config.js';
import { DEFAULT_K8S_AUDIENCE, DEFAULT_K8S_ISSUER, DEFAULT_REDACTED_ARGUMENTS, durationToMs } from '../../api/v1beta1/defaults.js';
import type { JsonRpcNotification, JsonRpcRequest } from '../protocol/jsonrpc.js';
import { ApprovalRule } from './approval/index.js';
import { ArgumentRules } from './arguments/index.js';
import { ToolRateLimits } from './limits/per-tool.js';
import { IdentityBroker, type IdentityDeps, type UpstreamIdentity } from './identity/index.js';
import { Auditor, type AuditEntry } from './audit/index.js';
import type { ApprovalAsk, ApprovalOutcome } from '../core/approval.js';
import type { AuthChain } from './authn/chain.js';
import type { Credentials } from './authn/credentials.js';
import type { AuthnOptions } from './authn/index.js';
import type { CedarAuthorizer, CedarAuthorizerOptions, Feature } from './authz/index.js';
import { Filters, methodSpec } from './filters/index.js';
import { Limits } from './limits/index.js';
import { ANONYMOUS, Refusal, Refusals, type PolicyMetrics, type Principal } from './types.js';

export { ANONYMOUS, isRefusal, Refusal, type PolicyMetrics, type Principal } from './types.js';
export type { AuditEntry } from './audit/index.js';
export { createPolicyMetrics } from './metrics.js';
export { METHODS, methodSpec } from './filters/index.js';

/** Where a ConfigMap named in the config is mounted (default: the injector's mount paths). */
export type ConfigMapPath = (kind: 'oidc' | 'authz', name: string, key: string) => string;
const DEFAULT_CONFIGMAP_PATH: ConfigMapPath = (kind, _name, key) => `${kind === 'oidc' ? '/etc/ome-mcp-oidc' : '/etc/ome-mcp-cedar'}/${key}`;

export interface PolicyDeps {
  logger: Logger;
  metrics?: PolicyMetrics;
  configMapPath?: ConfigMapPath;
  /** Resolves oidcConfig.inline.clientSecretRef (default: env OME_MCP_CLIENT_SECRET). */
  readSecret?: (ref: { name: string; key: string }) => string | undefined;
  /** Limits to use instead of new ones from the config: a reload keeps the counters and buckets. */
  limits?: Limits;
  /** Overrides for stage options (tests, tuning): token cache, JWKS cooldown, clock skew, … */
  authn?: Partial<AuthnOptions>;
  authz?: Partial<CedarAuthorizerOptions>;
}

export interface PolicyPipeline {
  readonly authenticationEnabled: boolean;
  readonly authorizationEnabled: boolean;
  /** For the transport: cancel a request upstream after this long. */
  readonly requestTimeoutMs: number;
  /** For the transport: 413 above this. */
  readonly maxBodyBytes: number;
  /** The request's credentials → who is calling, by the configured methods in order. Synchronous when the credential is cached. */
  authenticate(credentials: Credentials): Principal | Refusal | Promise<Principal | Refusal>;
  /** A client→server message: null when allowed, else the refusal (audited either way). */
  checkRequest(principal: Principal, message: JsonRpcRequest | JsonRpcNotification, sessionId?: string): Refusal | null;
  /** Takes a concurrency/rate slot: the release function (call once the response is done), or a refusal. */
  admit(principal: Principal): (() => void) | Refusal;
  /** Rewrites a server result for this principal: lists filtered, capabilities reduced. Returns the input when nothing changes. */
  filterResult(principal: Principal, method: string, result: Record<string, unknown>): Record<string, unknown>;
  /** Remembers the server's tool annotations (readOnlyHint, …) from a tools/list result. */
  observeToolsList(result: Record<string, unknown>): void;
  /** A request that needs a person's approval before it may reach the server (the gateway holds it and asks), or undefined. */
  approvalFor(message: JsonRpcRequest | JsonRpcNotification): ApprovalAsk | undefined;
  /** Audits what came of an approval. */
  recordApproval(principal: Principal, sessionId: string, ask: ApprovalAsk, outcome: ApprovalOutcome): void;
  /** The caller's identity for a session of its own (config `identity`), or undefined when the server does not take one. */
  upstreamIdentity(principal: Principal, audience?: string): Promise<UpstreamIdentity | Refusal> | undefined;
  /** An audit line for something the transport decided (e.g. a refused authentication). */
  audit(entry: AuditEntry): void;
  /** RFC 9728 document for `/.well-known/oauth-protected-resource…`, or undefined when authentication is off. */
  protectedResourceMetadata(resourceURL?: string): Record<string, unknown> | undefined;
  /** Stops file watchers. */
  close(): Promise<void>;
}

function readDoc(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

/** Resolves oidcConfig into authenticator options (undefined: authentication off). */
export function authnOptionsFromConfig(config: AgentConfig, deps: PolicyDeps): AuthnOptions | undefined {
  const oc = config.oidcConfig;
  if (!oc) return undefined;
  const resourceURL = config.resourceURL ?? oc.resourceURL;
  const common = {
    logger: deps.logger,
    metrics: deps.metrics,
    resourceURL,
    requiredScopes: config.scopes,
    scopesSupported: config.scopes,
  };
  if (oc.type === 'kubernetes') {
    const k = oc.kubernetes ?? {};
    return {
      ...common,
      kind: 'kubernetes',
      issuer: k.issuer ?? DEFAULT_K8S_ISSUER,
      audience: k.audience ?? DEFAULT_K8S_AUDIENCE,
      jwksURL: k.jwksURL || undefined,
      introspectionURL: k.introspectionURL || undefined,
      namespaces: k.namespaces ?? (k.namespace ?? config.namespace ? [(k.namespace ?? config.namespace)!] : undefined),
      useClusterAuth: k.useClusterAuth ?? true,
      ...deps.authn,
    };
  }
  let inline: InlineOIDCConfig | undefined = oc.inline;
  if (oc.type === 'configMap') {
    if (!oc.configMap) throw new Error('oidcConfig.configMap is required for configMap OIDC configuration');
    const path = (deps.configMapPath ?? DEFAULT_CONFIGMAP_PATH)('oidc', oc.configMap.name, oc.configMap.key ?? 'oidc.json');
    let doc: unknown;
    try {
      doc = readDoc(path);
    } catch (e) {
      throw new Error(`oidcConfig.configMap: cannot read ${path}: ${(e as Error).message}`);
    }
    if (doc === null || typeof doc !== 'object' || typeof (doc as InlineOIDCConfig).issuer !== 'string') {
      throw new Error(`oidcConfig.configMap: ${path} must hold an object with an issuer`);
    }
    inline = doc as InlineOIDCConfig;
  }
  if (!inline) throw new Error('oidcConfig.inline is required for inline OIDC configuration');
  let clientSecret = inline.clientSecret;
  if (!clientSecret && inline.clientSecretRef) {
    clientSecret = deps.readSecret ? deps.readSecret(inline.clientSecretRef) : process.env[AGENT_ENV.clientSecret];
    if (!clientSecret) throw new Error(`oidcConfig.inline.clientSecretRef: secret ${inline.clientSecretRef.name}/${inline.clientSecretRef.key} is not available (set OME_MCP_CLIENT_SECRET)`);
  }
  return {
    ...common,
    kind: 'oidc',
    issuer: inline.issuer,
    audience: inline.audience ?? resourceURL,
    jwksURL: inline.jwksURL || undefined,
    introspectionURL: inline.introspectionURL || undefined,
    clientId: inline.clientId,
    clientSecret,
    caBundlePath: inline.thvCABundlePath || undefined,
    jwksAuthTokenPath: inline.jwksAuthTokenPath || undefined,
    allowPrivateIP: inline.jwksAllowPrivateIP === true,
    ...deps.authn,
  };
}

/** Resolves authzConfig into Cedar authorizer options (undefined: authorization off). */
export function authzOptionsFromConfig(config: AgentConfig, deps: PolicyDeps): CedarAuthorizerOptions | undefined {
  const ac = config.authzConfig;
  if (!ac) return undefined;
  const base = { logger: deps.logger, metrics: deps.metrics, serverName: config.name, ...deps.authz };
  switch (ac.type) {
    case 'file':
      if (!ac.file) throw new Error('authzConfig.file is required for file authorization configuration');
      return { ...base, policyPaths: ac.file.policyPaths, entitiesPath: ac.file.entitiesPath };
    case 'configMap': {
      if (!ac.configMap) throw new Error('authzConfig.configMap is required for configMap authorization configuration');
      const path = (deps.configMapPath ?? DEFAULT_CONFIGMAP_PATH)('authz', ac.configMap.name, ac.configMap.key ?? 'authz.json');
      return { ...base, policyPaths: [path] };
    }
    default:
      if (!ac.inline) throw new Error('authzConfig.inline is required for inline authorization configuration');
      return { ...base, policies: ac.inline.policies, entitiesJSON: ac.inline.entitiesJSON };
  }
}

const LIST_KEY: Record<string, { key: string; feature: Feature; id: 'name' | 'uri' | 'uriTemplate' }> = {
  'tools/list': { key: 'tools', feature: 'tool', id: 'name' },
  'prompts/list': { key: 'prompts', feature: 'prompt', id: 'name' },
  'resources/list': { key: 'resources', feature: 'resource', id: 'uri' },
  'resources/templates/list': { key: 'resourceTemplates', feature: 'resource', id: 'uriTemplate' },
};

class Pipeline implements PolicyPipeline {
  readonly authenticationEnabled: boolean;
  readonly authorizationEnabled: boolean;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  private lastTools: unknown;

  constructor(
    private readonly authn: AuthChain | undefined,
    private readonly authz: CedarAuthorizer | undefined,
    private readonly filters: Filters,
    private readonly limits: Limits,
    private readonly auditor: Auditor,
    private readonly approval: ApprovalRule,
    private readonly argumentRules: ArgumentRules | undefined,
    private readonly toolRates: ToolRateLimits | undefined,
    private readonly identity: IdentityBroker | undefined,
  ) {
    this.authenticationEnabled = authn !== undefined;
    this.authorizationEnabled = authz !== undefined;
    this.requestTimeoutMs = limits.requestTimeoutMs;
    this.maxBodyBytes = limits.maxBodyBytes;
  }

  authenticate(credentials: Credentials): Principal | Refusal | Promise<Principal | Refusal> {
    if (!this.authn) return ANONYMOUS;
    const r = this.authn.authenticate(credentials);
    if (r instanceof Promise) return r.then((x) => this.auditAuthn(x));
    return this.auditAuthn(r);
  }

  private auditAuthn(r: Principal | Refusal): Principal | Refusal {
    if (r instanceof Refusal && this.auditor.enabled) {
      this.auditor.record({ principal: undefined, method: 'authenticate', decision: 'deny', reason: r.reason, status: r.status });
    }
    return r;
  }

  checkRequest(principal: Principal, message: JsonRpcRequest | JsonRpcNotification, sessionId?: string): Refusal | null {
    const method = message.method;
    const spec = methodSpec(method);
    if (spec?.kind === 'bypass') return null;
    if (spec === undefined && this.authz === undefined) return null; // no policy: the server answers unknown methods itself
    const t0 = this.auditor.enabled ? performance.now() : 0;
    const params = (message.params ?? {}) as Record<string, unknown>;
    let target: string | undefined;
    let rejection: Refusal | null = null;
    let policies: readonly string[] | undefined;
    let cached: boolean | undefined;
    let args: Record<string, unknown> | undefined;

    if (spec === undefined) {
      rejection = Refusals.forbidden(`method ${method} is not covered by authorization policy`);
    } else if (spec.kind === 'list') {
      if (!this.filters.featureEnabled(spec.feature!)) rejection = Refusals.methodNotFound(method);
      else if (this.authz) {
        const d = this.authz.authorizeList(principal, spec.feature!);
        policies = d.policies;
        cached = d.cached;
        if (!d.allow) rejection = Refusals.forbidden('denied by policy');
      }
    } else {
      let feature: Feature | undefined = spec.feature;
      let id: unknown;
      if (spec.kind === 'complete') {
        const ref = params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
        if (ref?.type === 'ref/prompt') {
          feature = 'prompt';
          id = ref.name;
        } else if (ref?.type === 'ref/resource') {
          feature = 'resource';
          id = ref.uri;
        }
        if (feature === undefined) rejection = Refusals.invalidParams('completion/complete: ref must be ref/prompt or ref/resource');
      } else {
        id = feature === 'resource' ? params.uri : params.name;
        const a = params.arguments;
        if (a !== null && typeof a === 'object' && !Array.isArray(a)) args = a as Record<string, unknown>;
      }
      if (rejection === null && feature !== undefined) {
        if (typeof id !== 'string') {
          rejection = Refusals.invalidParams(`${method}: params.${feature === 'resource' ? 'uri' : 'name'} must be a string`);
        } else {
          target = id;
          if (!this.filters.featureEnabled(feature)) {
            rejection = spec.kind === 'complete' ? Refusals.invalidParams(`Unknown ${feature}: ${id}`) : Refusals.methodNotFound(method);
          } else if (feature === 'tool' && !this.filters.toolVisible(id)) {
            rejection = Refusals.unknownTool(id);
          } else if (this.authz) {
            const d = this.authz.authorize(principal, feature, id, args);
            policies = d.policies;
            cached = d.cached;
            if (!d.allow) rejection = Refusals.forbidden(d.errors.length > 0 ? `denied (policy errors: ${d.errors.join(', ')})` : 'denied by policy');
          }
        }
      }
    }

    if (rejection === null && method === 'tools/call' && target !== undefined) {
      rejection = this.argumentRules?.check(target, args) ?? this.toolRates?.take(principal, target) ?? null;
    }

    if (this.auditor.enabled) {
      this.auditor.record({
        principal,
        sessionId,
        method,
        target,
        decision: rejection === null ? 'allow' : 'deny',
        reason: rejection?.reason ?? (rejection ? rejection.message : undefined),
        status: rejection?.status,
        policies,
        cached,
        latencyUs: (performance.now() - t0) * 1000,
        arguments: args,
      });
    }
    return rejection;
  }

  admit(principal: Principal): (() => void) | Refusal {
    const r = this.limits.admit(principal);
    if (r instanceof Refusal && this.auditor.enabled) {
      this.auditor.record({ principal, method: 'admit', decision: 'deny', reason: r.reason, status: r.status });
    }
    return r;
  }

  observeToolsList(result: Record<string, unknown>): void {
    const tools = result.tools;
    if (!Array.isArray(tools) || tools === this.lastTools) return;
    this.lastTools = tools;
    this.filters.setAnnotations(tools);
    this.authz?.setToolAnnotations(tools);
  }

  filterResult(principal: Principal, method: string, result: Record<string, unknown>): Record<string, unknown> {
    if (method === 'initialize' || method === 'server/discover') return this.filters.active ? this.filters.reduceCapabilities(result) : result;
    const spec = LIST_KEY[method];
    if (spec === undefined) return result;
    if (method === 'tools/list') this.observeToolsList(result);
    if (!this.filters.active && this.authz === undefined) return result;
    const items = result[spec.key];
    if (!Array.isArray(items)) return result;
    if (!this.filters.featureEnabled(spec.feature)) return { ...result, [spec.key]: [] };
    let kept: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Record<string, unknown> | null;
      const id = item && typeof item === 'object' ? item[spec.id] : undefined;
      let ok = typeof id === 'string';
      if (ok && spec.feature === 'tool' && !this.filters.toolVisible(id as string)) ok = false;
      if (ok && this.authz) ok = this.authz.authorize(principal, spec.feature, id as string).allow;
      if (!ok && kept === undefined) kept = items.slice(0, i);
      else if (ok && kept !== undefined) kept.push(item);
    }
    return kept === undefined ? result : { ...result, [spec.key]: kept };
  }

  upstreamIdentity(principal: Principal, audience?: string): Promise<UpstreamIdentity | Refusal> | undefined {
    return this.identity?.forCaller(principal, audience);
  }

  approvalFor(message: JsonRpcRequest | JsonRpcNotification): ApprovalAsk | undefined {
    return this.approval.active ? this.approval.askFor(message) : undefined;
  }

  recordApproval(principal: Principal, sessionId: string, ask: ApprovalAsk, outcome: ApprovalOutcome): void {
    this.auditor.record({ principal, sessionId, method: 'approval', target: ask.tool, decision: outcome === 'accept' ? 'allow' : 'deny', reason: `approval: ${outcome}`, arguments: ask.arguments });
  }

  audit(entry: AuditEntry): void {
    this.auditor.record(entry);
  }

  protectedResourceMetadata(resourceURL?: string): Record<string, unknown> | undefined {
    return this.authn?.metadata(resourceURL);
  }

  async close(): Promise<void> {
    this.authn?.close();
    this.authz?.close();
  }
}

/** The issuer and how to reach it, as authentication does: token exchange goes to the same place. */
function identityDeps(an: AuthnOptions | undefined, logger: Logger): IdentityDeps {
  return { logger, issuer: an?.issuer, ca: an?.caBundlePath ? readFileSync(an.caBundlePath, 'utf8') : undefined, allowPrivate: an?.allowPrivateIP === true };
}

/** The limits stage of a validated agent configuration. */
export function limitsFromConfig(config: AgentConfig, metrics?: PolicyMetrics): Limits {
  const l = config.limits;
  return new Limits({
    maxConcurrentRequests: l?.maxConcurrentRequests,
    perPrincipalConcurrentRequests: l?.perPrincipal?.maxConcurrentRequests,
    requestsPerMinute: l?.perPrincipal?.requestsPerMinute,
    burst: l?.perPrincipal?.burst,
    requestTimeoutMs: l?.requestTimeout ? durationToMs(l.requestTimeout) : undefined,
    maxBodyBytes: l?.maxBodyBytes,
    metrics,
  });
}

/**
 * Builds the pipeline from a validated agent configuration (`parseAgentConfig`). Throws with the
 * offending field or file named when the configuration or a policy is invalid.
 */
export async function createPolicyPipeline(config: AgentConfig, deps: PolicyDeps): Promise<PolicyPipeline> {
  const log = deps.logger.child({ component: 'policy' });
  const an = authnOptionsFromConfig(config, { ...deps, logger: log });
  // The stages load when configured: an agent without OIDC or Cedar never loads jose or the
  // policy compiler (start-up time and memory, docs/benchmarks.md).
  const authn = an || config.authentication ? await (await import('./authn/chain.js')).createAuthChain(config, an, { logger: log, metrics: deps.metrics }) : undefined;
  if (!authn) {
    log.warn(
      'AUTHENTICATION IS OFF: no oidcConfig or authentication methods are set, so every caller is the anonymous principal. Anyone who can reach this endpoint can use the MCP server. Set oidcConfig or authentication.methods to require credentials.',
    );
  }
  const zo = authzOptionsFromConfig(config, { ...deps, logger: log });
  const authz = zo ? await (await import('./authz/index.js')).createCedarAuthorizer(zo) : undefined;
  const filters = new Filters({ toolsFilter: config.toolsFilter, capabilities: config.capabilities, readOnly: config.readOnly });
  const l = config.limits;
  const limits = deps.limits ?? limitsFromConfig(config, deps.metrics);
  const auditor = new Auditor(deps.logger, config.audit ?? {});
  const approval = new ApprovalRule(config.approval, config.audit?.redactArguments ?? DEFAULT_REDACTED_ARGUMENTS, (tool) => filters.annotationsOf(tool));
  const argumentRules = config.argumentRules?.length ? new ArgumentRules(config.argumentRules) : undefined;
  const toolRates = l?.perTool?.length ? new ToolRateLimits(l.perTool, deps.metrics) : undefined;
  const identity = config.identity ? new IdentityBroker(config.identity, identityDeps(an, log)) : undefined;
  return new Pipeline(authn, authz, filters, limits, auditor, approval, argumentRules, toolRates, identity);
}

