// Which backends an MCPGateway has: the MCPServers its selector matches and the ones (or URLs) its
// backends[] name, each as the agent config's backend (the server's in-cluster Service URL) and as
// a status entry (ready from the MCPServer's own Ready condition). Pure; unit-tested.
import { Value } from 'typebox/value';
import { BACKEND_NAME_PATTERN, type AgentBackend } from '../../../api/agent-backends.js';
import { MCPSERVER_KIND, MCPServerSpec, type MCPServerSpec as ServerSpec } from '../../../api/v1beta1/mcpserver.js';
import type { MCPGatewayBackend, MCPGatewayBackendStatus, MCPGatewaySpec } from '../../../api/v1beta1/mcpgateway.js';
import { matches } from '../catalog/selectors.js';
import { serviceURL } from '../names.js';
import type { Server } from '../servers.js';
import { CONDITION_READY } from '../status.js';

export interface SelectedBackends {
  /** For the agent config, in order (explicit entries first, then selected servers by name). */
  backends: AgentBackend[];
  /** One per backend, including those left out of the config (their server is missing). */
  status: MCPGatewayBackendStatus[];
  /** Spec problems (a name that is no DNS label, duplicates). */
  problems: string[];
  /** The MCPServers read, by name: a change of one re-reconciles the MCPGateway. */
  servers: string[];
}

const NAME = new RegExp(BACKEND_NAME_PATTERN);

/** The options an entry gives its backend (filter, renames, descriptions, priority; transport for a URL). */
function toolView(e: MCPGatewayBackend | undefined): Partial<AgentBackend> {
  if (!e) return {};
  const { name: _n, serverRef: _s, url: _u, ...view } = e;
  return view;
}

/** The MCPServer's Ready condition as the backend's readiness; why not, in its own words. */
function readiness(server: Server): { ready: boolean; message: string } {
  const ready = server.status?.conditions?.find((c) => c.type === CONDITION_READY);
  if (server.metadata.deletionTimestamp) return { ready: false, message: 'the MCPServer is being deleted' };
  if (!ready) return { ready: false, message: 'the MCPServer has no Ready condition yet' };
  return { ready: ready.status === 'True', message: ready.message ?? ready.reason ?? '' };
}

export function selectBackends(spec: MCPGatewaySpec, namespace: string, servers: readonly Server[], clusterDomain: string): SelectedBackends {
  const out: SelectedBackends = { backends: [], status: [], problems: [], servers: [] };
  const byName = new Map(servers.map((s) => [s.metadata.name!, s]));
  const entries = spec.backends ?? [];
  const named = new Map(entries.flatMap((e) => (e.serverRef ? [[e.serverRef.name, e] as const] : [])));
  const selected = spec.serverSelector ? servers.filter((s) => matches(spec.serverSelector!, s.metadata.labels)).map((s) => s.metadata.name!) : [];
  const taken = new Map<string, string>();

  const add = (name: string, where: string, server: string | undefined, entry: MCPGatewayBackend | undefined) => {
    if (!NAME.test(name)) {
      out.problems.push(`${where}: backend name ${JSON.stringify(name)} is not a DNS label (at most 63 of a-z, 0-9, -): give the entry a name`);
      return;
    }
    if (taken.has(name)) {
      out.problems.push(`${where}: backend name ${name} is taken by ${taken.get(name)}`);
      return;
    }
    taken.set(name, where);
    if (server === undefined) {
      out.backends.push({ name, url: entry!.url!, ...toolView(entry) });
      out.status.push({ name, url: entry!.url!, ready: true, message: "a URL: the agent's /readyz reports whether it is up" });
      return;
    }
    out.servers.push(server);
    const s = byName.get(server);
    if (!s || s.metadata.deletionTimestamp) {
      out.status.push({ name, server, ready: false, message: s ? 'the MCPServer is being deleted' : `MCPServer ${namespace}/${server} not found` });
      return;
    }
    const serverSpec = Value.Default(MCPServerSpec, structuredClone(s.spec ?? {})) as ServerSpec;
    const url = serviceURL({ kind: MCPSERVER_KIND, name: server, namespace }, serverSpec, clusterDomain);
    // The MCPServer's agent serves streamable HTTP (and SSE) at /mcp.
    out.backends.push({ name, url, transport: 'streamable-http', ...toolView(entry) });
    out.status.push({ name, server, url, ...readiness(s) });
  };

  entries.forEach((e, i) => {
    const where = `spec.backends[${i}]`;
    if (e.serverRef) add(e.name ?? e.serverRef.name, where, e.serverRef.name, e);
    else if (e.url && e.name) add(e.name, where, undefined, e);
    else out.problems.push(`${where}: give serverRef, or url and name`);
  });
  for (const name of [...selected].sort()) if (!named.has(name)) add(name, `spec.serverSelector: MCPServer ${name}`, name, undefined);
  return out;
}
