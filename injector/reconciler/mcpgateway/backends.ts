// Which backends an MCPGateway has: the MCPServers its selector matches and the servers (or URLs)
// its backends[] name, each as the agent config's backend (the server's in-cluster Service URL)
// and as a status entry (ready from the server's own Ready condition). A serverRef names an
// MCPServer of the MCPGateway's namespace, an MCPServer of another namespace that a ReferenceGrant
// there permits, or a ClusterMCPServer (its objects in the operator's namespace). Pure; unit-tested.
import { Value } from 'typebox/value';
import { BACKEND_NAME_PATTERN, type AgentBackend } from '../../../api/agent-backends.js';
import { GATEWAY_API_GROUP, permittingGrant, REFERENCE_GRANT_KIND, REFERENCE_GRANT_VERSION, type ReferenceGrant } from '../../../api/gateway-api.js';
import { GROUP as API_GROUP, CLUSTER_MCPSERVER_KIND, MCPSERVER_KIND, MCPServerSpec, type MCPServerSpec as ServerSpec } from '../../../api/v1beta1/mcpserver.js';
import { MCPGATEWAY_KIND, type MCPGatewayBackend, type MCPGatewayBackendStatus, type MCPGatewayServerKind, type MCPGatewaySpec } from '../../../api/v1beta1/mcpgateway.js';
import { matches } from '../catalog/selectors.js';
import { objKey } from '../kit/types.js';
import { serviceURL, type ServerRef } from '../names.js';
import type { Server } from '../servers.js';
import { CONDITION_READY } from '../status.js';

/** Where the backends come from: the caches of the two server kinds and of the ReferenceGrants. */
export interface BackendSources {
  /** MCPServers of a namespace. */
  servers(namespace: string): readonly Server[];
  clusterServer(name: string): Server | undefined;
  /** Where every ClusterMCPServer's Service lives (the operator's namespace). */
  clusterNamespace: string;
  /** ReferenceGrants of a namespace; undefined when the API is not served (then nothing is granted). */
  grants?: (namespace: string) => readonly ReferenceGrant[];
}

export interface SelectedBackends {
  /** For the agent config, in order (explicit entries first, then selected servers by name). */
  backends: AgentBackend[];
  /** One per backend, including those left out of the config (their server is missing, or not permitted). */
  status: MCPGatewayBackendStatus[];
  /** Spec problems (a name that is no DNS label, duplicates). */
  problems: string[];
  /**
   * What was read, as object keys: a change of one re-reconciles the MCPGateway (MCPServers,
   * ClusterMCPServers, and `ReferenceGrant/<ns>/` for a namespace whose grants were consulted).
   */
  refs: string[];
  /** A cross-namespace backend needed the ReferenceGrant API and it is not served: look again later. */
  grantsUnavailable: boolean;
}

const NAME = new RegExp(BACKEND_NAME_PATTERN);

/** The key under which an MCPGateway reads the grants of a namespace (any grant there changing brings it back). */
export const grantsKey = (namespace: string) => objKey(REFERENCE_GRANT_KIND, namespace, '');

/** The options an entry gives its backend (filter, renames, descriptions, priority; transport for a URL). */
function toolView(e: MCPGatewayBackend | undefined): Partial<AgentBackend> {
  if (!e) return {};
  const { name: _n, serverRef: _s, url: _u, ...view } = e;
  return view;
}

/** The server's Ready condition as the backend's readiness; why not, in its own words. */
function readiness(server: Server, what: string): { ready: boolean; reason?: string; message: string } {
  const ready = server.status?.conditions?.find((c) => c.type === CONDITION_READY);
  if (!ready) return { ready: false, reason: 'NotReady', message: `the ${what} has no Ready condition yet` };
  const ok = ready.status === 'True';
  return { ready: ok, ...(ok ? {} : { reason: 'NotReady' }), message: ready.message ?? ready.reason ?? '' };
}

/** A server a backend names, resolved: where it is, and whether the MCPGateway may use it. */
interface Target {
  kind: MCPGatewayServerKind;
  name: string;
  /** The MCPServer's namespace (a ClusterMCPServer: unset). */
  namespace?: string;
}

export function selectBackends(spec: MCPGatewaySpec, namespace: string, sources: BackendSources, clusterDomain: string): SelectedBackends {
  const out: SelectedBackends = { backends: [], status: [], problems: [], refs: [], grantsUnavailable: false };
  const local = sources.servers(namespace);
  const byName = new Map(local.map((s) => [s.metadata.name!, s]));
  const entries = spec.backends ?? [];
  const targetOf = (e: MCPGatewayBackend): Target => {
    const kind = e.serverRef!.kind ?? MCPSERVER_KIND;
    return kind === CLUSTER_MCPSERVER_KIND ? { kind, name: e.serverRef!.name } : { kind, name: e.serverRef!.name, namespace: e.serverRef!.namespace ?? namespace };
  };
  // A selected server is one of this namespace; an entry naming it (same kind and namespace) sets its options.
  const named = new Set(entries.flatMap((e) => (e.serverRef ? [targetOf(e)] : [])).filter((t) => t.kind === MCPSERVER_KIND && t.namespace === namespace).map((t) => t.name));
  const selected = spec.serverSelector ? local.filter((s) => matches(spec.serverSelector!, s.metadata.labels)).map((s) => s.metadata.name!) : [];
  const taken = new Map<string, string>();
  const refs = new Set<string>();

  /** Why the MCPGateway may not use an MCPServer of another namespace; undefined when a grant permits it. */
  const refused = (target: Target): string | undefined => {
    if (target.kind !== MCPSERVER_KIND || target.namespace === namespace) return undefined;
    refs.add(grantsKey(target.namespace!));
    const want = `from {group: ${API_GROUP}, kind: ${MCPGATEWAY_KIND}, namespace: ${namespace}} to {group: ${API_GROUP}, kind: ${MCPSERVER_KIND}, name: ${target.name}}`;
    if (!sources.grants) {
      out.grantsUnavailable = true;
      return `the ReferenceGrant API (${GATEWAY_API_GROUP}/${REFERENCE_GRANT_VERSION}) is not served in this cluster, so no MCPServer of another namespace can be permitted (a grant in ${target.namespace} would allow ${want})`;
    }
    const grant = permittingGrant(sources.grants(target.namespace!), { group: API_GROUP, kind: MCPGATEWAY_KIND, namespace }, { group: API_GROUP, kind: MCPSERVER_KIND, name: target.name });
    return grant ? undefined : `no ReferenceGrant in namespace ${target.namespace} allows ${want}`;
  };

  const add = (name: string, where: string, target: Target | undefined, entry: MCPGatewayBackend | undefined) => {
    if (!NAME.test(name)) {
      out.problems.push(`${where}: backend name ${JSON.stringify(name)} is not a DNS label (at most 63 of a-z, 0-9, -): give the entry a name`);
      return;
    }
    if (taken.has(name)) {
      out.problems.push(`${where}: backend name ${name} is taken by ${taken.get(name)}`);
      return;
    }
    taken.set(name, where);
    if (target === undefined) {
      out.backends.push({ name, url: entry!.url!, ...toolView(entry) });
      out.status.push({ name, url: entry!.url!, ready: true, message: "a URL: the agent's /readyz reports whether it is up" });
      return;
    }
    const cluster = target.kind === CLUSTER_MCPSERVER_KIND;
    const place: Pick<MCPGatewayBackendStatus, 'kind' | 'namespace'> = cluster ? { kind: CLUSTER_MCPSERVER_KIND } : target.namespace !== namespace ? { namespace: target.namespace! } : {};
    const head = { name, server: target.name, ...place };
    const label = cluster ? `ClusterMCPServer ${target.name}` : `MCPServer ${target.namespace}/${target.name}`;
    const denied = refused(target);
    if (denied) {
      out.status.push({ ...head, ready: false, reason: 'RefNotPermitted', message: denied });
      return;
    }
    refs.add(cluster ? objKey(CLUSTER_MCPSERVER_KIND, undefined, target.name) : objKey(MCPSERVER_KIND, target.namespace, target.name));
    const s = cluster ? sources.clusterServer(target.name) : target.namespace === namespace ? byName.get(target.name) : sources.servers(target.namespace!).find((x) => x.metadata.name === target.name);
    if (!s || s.metadata.deletionTimestamp) {
      out.status.push({ ...head, ready: false, reason: 'NotFound', message: s ? `the ${cluster ? 'ClusterMCPServer' : 'MCPServer'} is being deleted` : `${label} not found` });
      return;
    }
    const serverSpec = Value.Default(MCPServerSpec, structuredClone(s.spec ?? {})) as ServerSpec;
    const ref: ServerRef = cluster ? { kind: CLUSTER_MCPSERVER_KIND, name: target.name, namespace: sources.clusterNamespace } : { kind: MCPSERVER_KIND, name: target.name, namespace: target.namespace! };
    const url = serviceURL(ref, serverSpec, clusterDomain);
    // The server's agent serves streamable HTTP (and SSE) at /mcp.
    out.backends.push({ name, url, transport: 'streamable-http', ...toolView(entry) });
    out.status.push({ ...head, url, ...readiness(s, cluster ? 'ClusterMCPServer' : 'MCPServer') });
  };

  entries.forEach((e, i) => {
    const where = `spec.backends[${i}]`;
    if (e.serverRef) add(e.name ?? e.serverRef.name, where, targetOf(e), e);
    else if (e.url && e.name) add(e.name, where, undefined, e);
    else out.problems.push(`${where}: give serverRef, or url and name`);
  });
  for (const name of [...selected].sort()) if (!named.has(name)) add(name, `spec.serverSelector: MCPServer ${name}`, { kind: MCPSERVER_KIND, name, namespace }, undefined);
  out.refs = [...refs];
  return out;
}
