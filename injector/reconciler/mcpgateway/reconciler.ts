// The MCPGateway reconciler: backends (backends.ts) → an agent config in backends mode → the
// objects an agent-only MCPServer gets (desired.ts: ConfigMap, Deployment, Service, …), applied
// and pruned the servers' way (servers.ts), then a status of the Deployment and each backend.
// The MCPGateway's policy is resolved through the MCPServer path (resolve.ts) with an MCPServer
// spec of type Catalog (the agent alone) carrying its policy sections: one resolver, one builder.
import { Value } from 'typebox/value';
import { API_VERSION, MCPSERVER_KIND, MCPServerSpec, type MCPServerSpec as ServerSpec } from '../../../api/v1beta1/mcpserver.js';
import { MCPGATEWAY_KIND, MCPGatewaySpec, type MCPGateway, type MCPGatewaySpec as Spec, type MCPGatewayStatus } from '../../../api/v1beta1/mcpgateway.js';
import { buildAll } from '../desired.js';
import type { StatusWriter } from '../kit/status-writer.js';
import { objKey, type Cached, type Obj, type Reconciler, type Result } from '../kit/types.js';
import { baseName, keyOf, parseKey, selectorLabels, serviceURL, type ServerRef } from '../names.js';
import { nudgePods } from '../pod-nudge.js';
import { resolve as resolveSpec } from '../resolve.js';
import { buildAndApply, currentDeployment, podsOf, reportConfig, type Server, type ServerDeps } from '../servers.js';
import { ensureStateKey } from '../state-key.js';
import { selectBackends, type BackendSources } from './backends.js';
import { readAgentView, withAgentView, type AgentProbe } from './agent-view.js';
import { GATEWAY_API_GROUP, GATEWAY_KIND, HTTPROUTE_KIND, REFERENCE_GRANT_KIND, type GatewayObject, type HTTPRouteObject, type ReferenceGrant } from '../../../api/gateway-api.js';
import type { V1Ingress } from '@kubernetes/client-node';
import { buildHTTPRoute, buildIngress, viewHTTPRoute, viewIngress, type ExposureInput, type ExposureView } from '../exposure.js';
import type { Discovery } from '../kit/discovery.js';
import { deriveMCPGatewayStatus } from './status.js';

export type MCPGatewayObject = MCPGateway & Obj;

export type MCPGatewayDeps = Omit<ServerDeps, 'status' | 'catalog'> & {
  status: StatusWriter<MCPGatewayStatus>;
  /** MCPServers and ClusterMCPServers (their caches): the backends. */
  servers: Cached<Server>;
  clusterServers: Cached<Server>;
  /** Where every ClusterMCPServer's objects (its Service) live. */
  clusterNamespace: string;
  /** ReferenceGrants (their cache; empty while the API is not served). */
  grants: Cached<ReferenceGrant & Obj>;
  /** Whether the Gateway API kinds are served. */
  discovery: Discovery;
  /** How the agent's /readyz is read (false: never; the k8s tests' pods have no real IPs). */
  agentProbe: AgentProbe | false;
};

/** The agent's /readyz must answer within this. */
const AGENT_TIMEOUT_MS = 2_000;
/** How often the agent's view is read again: soon while a backend is not up, else every minute (tool counts move). */
const AGENT_POLL_MS = { settling: 10_000, steady: 60_000 };

/** How soon an MCPGateway that needs an API the cluster does not serve looks again. */
const MISSING_API_RETRY_MS = 30_000;

/** Does a backend name an MCPServer of another namespace (then the ReferenceGrants are read)? */
export const crossNamespace = (spec: Spec, namespace: string) =>
  (spec.backends ?? []).some((e) => e.serverRef && (e.serverRef.kind ?? MCPSERVER_KIND) === MCPSERVER_KIND && (e.serverRef.namespace ?? namespace) !== namespace);

/** The MCPServer spec the MCPGateway's objects are built from: the agent alone, with the MCPGateway's policy and pod settings. */
export function serverSpecOf(spec: Spec): ServerSpec {
  const { serverSelector: _s, backends: _b, aggregate: _a, ingress: _i, httpRoute: _h, ...rest } = spec;
  return Value.Default(MCPServerSpec, structuredClone({ ...rest, type: 'Catalog' })) as ServerSpec;
}

export class MCPGatewayReconciler implements Reconciler {
  readonly kind = MCPGATEWAY_KIND;
  private readonly forced = new Set<string>();

  constructor(
    private readonly cache: Cached<MCPGatewayObject>,
    private readonly d: MCPGatewayDeps,
  ) {}

  keys(): string[] {
    return this.cache.list().map((g) => keyOf(MCPGATEWAY_KIND, g.metadata.name!, g.metadata.namespace));
  }

  resync(): void {
    for (const k of this.keys()) this.forced.add(k);
  }

  async reconcile(key: string): Promise<Result> {
    const d = this.d;
    const { namespace, name } = parseKey(key);
    const gw = this.cache.get(name, namespace);
    if (!gw) {
      // Its objects carry owner references: the garbage collector deletes them.
      d.refs.set(key, []);
      d.status.forget(key);
      d.events.forget(key);
      return {};
    }
    if (gw.metadata.deletionTimestamp) return {};
    const spec = Value.Default(MCPGatewaySpec, structuredClone(gw.spec ?? {})) as Spec;
    const ref: ServerRef = { kind: MCPGATEWAY_KIND, name, namespace };
    const owner = { kind: MCPGATEWAY_KIND, name, uid: gw.metadata.uid! };
    const serverSpec = serverSpecOf(spec);
    const now = new Date();

    const grantsServed = crossNamespace(spec, namespace) && (await d.discovery.served(REFERENCE_GRANT_KIND));
    const sources: BackendSources = {
      servers: (ns) => d.servers.list(ns),
      clusterServer: (n) => d.clusterServers.get(n),
      clusterNamespace: d.clusterNamespace,
      ...(grantsServed ? { grants: (ns: string) => d.grants.list(ns) } : {}),
    };
    const selected = selectBackends(spec, namespace, sources, d.clusterDomain);
    const invalid = [...selected.problems];
    if (!selected.backends.length) invalid.push('no backends: the selector matches no MCPServer and backends[] names none that exists');
    const resolved = await resolveSpec(ref, serverSpec, d.lookup, {
      clusterDomain: d.clusterDomain,
      backends: { backends: selected.backends, ...(spec.aggregate ? { aggregate: spec.aggregate } : {}) },
    });
    // Its ConfigMaps and its MCPServers: a change of either brings it back (controller.ts).
    const configMaps = resolved.references.filter((r) => r.kind === 'ConfigMap').map((r) => objKey(r.kind, r.namespace, r.name));
    d.refs.set(key, [...new Set([...configMaps, ...selected.refs])]);
    // Its own problems first: without backends the resolver's complaint about them says less.
    if (!invalid.length) invalid.push(...resolved.problems);

    // Exposure: an Ingress, or an HTTPRoute where the Gateway API is served (else a status problem).
    const exposure: ExposureInput = { ref, owner, port: serverSpec.port ?? 8080, ...(spec.ingress ? { ingress: spec.ingress } : {}), ...(spec.httpRoute ? { httpRoute: spec.httpRoute } : {}) };
    const routesServed = !!spec.httpRoute && (await d.discovery.served(HTTPROUTE_KIND));
    const outcome = await buildAndApply(d, key, invalid, !invalid.length && this.forced.delete(key), async () => {
      const stateKey = await ensureStateKey(d.client, ref, owner, now);
      const exposed = [buildIngress(exposure), routesServed ? buildHTTPRoute(exposure) : undefined].filter((o) => o !== undefined);
      return [...buildAll({ ref, spec: serverSpec, agentConfig: resolved.agentConfig!, apiServer: resolved.apiServer, owner, stateKey, injector: d.injector }), ...exposed];
    });
    const { problems, reason } = outcome;
    let { deployment } = outcome;
    // Invalid config: report the Deployment still running with the last good one.
    deployment ??= currentDeployment(d, key);
    const pods = deployment ? podsOf(d, deployment) : [];
    if (!problems.length && resolved.agentConfig) await nudgePods(d.client, pods, resolved.agentConfig, d.log);

    const exposed = await this.viewExposure(spec, ref, routesServed);
    const agentView = d.agentProbe ? await readAgentView(pods, d.agentProbe, AGENT_TIMEOUT_MS) : undefined;
    const backends = agentView ? withAgentView(selected.status, agentView) : selected.status;
    const status = deriveMCPGatewayStatus({
      generation: gw.metadata.generation ?? 0,
      deleting: false,
      problems,
      problemReason: reason,
      deployment,
      pods,
      desiredReplicas: serverSpec.replicas ?? 1,
      url: exposed?.url ?? serviceURL(ref, serverSpec, d.clusterDomain),
      ...(exposed ? { exposed } : {}),
      selector: Object.entries(selectorLabels(ref)).map(([k, v]) => `${k}=${v}`).join(','),
      backends,
      previous: d.status.current(key, gw),
      now,
    });
    await d.status.write(key, MCPGATEWAY_KIND, gw, status);
    const result = await reportConfig(d, key, { ...gw, apiVersion: API_VERSION, kind: MCPGATEWAY_KIND }, problems, reason);
    // Not watched while not served: an API installed later is seen on the next look.
    if (result.requeue) return result;
    const missingAPI = selected.grantsUnavailable || (!!spec.httpRoute && !routesServed);
    const settled = agentView && !('error' in agentView) && backends.every((b) => !b.url || b.up);
    const after = [missingAPI ? MISSING_API_RETRY_MS : undefined, agentView ? (settled ? AGENT_POLL_MS.steady : AGENT_POLL_MS.settling) : undefined].filter((x) => x !== undefined);
    return after.length ? { requeueAfterMs: Math.min(...after) } : result;
  }

  /** What the Ingress's or HTTPRoute's own status says (from the cache; the first parent Gateway read for the URL's scheme). */
  private async viewExposure(spec: Spec, ref: ServerRef, routesServed: boolean): Promise<ExposureView | undefined> {
    const name = baseName(ref);
    if (spec.ingress) return viewIngress(spec.ingress, this.d.owned.get<V1Ingress>('Ingress', name, ref.namespace));
    if (!spec.httpRoute) return undefined;
    const parent = spec.httpRoute.parentRefs[0]!;
    const isGateway = (parent.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && (parent.kind ?? GATEWAY_KIND) === GATEWAY_KIND;
    const gateway =
      routesServed && isGateway ? await this.d.client.getOrUndefined<GatewayObject & Obj>(GATEWAY_KIND, parent.name, parent.namespace ?? ref.namespace).catch(() => undefined) : undefined;
    const live = this.d.owned.get<HTTPRouteObject>(HTTPROUTE_KIND, name, ref.namespace);
    return viewHTTPRoute(spec.httpRoute, { served: routesServed, namespace: ref.namespace, ...(live ? { live } : {}), ...(gateway ? { gateway } : {}) });
  }
}
