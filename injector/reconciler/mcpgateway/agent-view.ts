// What the gateway's agent itself says of its backends: its ops endpoint /readyz (plain HTTP on the
// pod's ops port, the `mcp.ome.io/ops-port` annotation of its pod template) lists each backend with
// `up` and its tool count (AgentBackendHealth, api/agent-backends.ts). Read from one Ready pod per
// reconcile with a short timeout; a pod that cannot be asked is said so, never guessed.
import type { V1Pod } from '@kubernetes/client-node';
import type { AgentBackendHealth } from '../../../api/agent-backends.js';
import { ANNOTATION_OPS_PORT, DEFAULT_OPS_PORT } from '../../../api/annotations.js';
import type { MCPGatewayBackendStatus } from '../../../api/v1beta1/mcpgateway.js';

/** GETs a URL and returns its JSON body whatever the HTTP status (/readyz answers 503 with a body while not ready). */
export type AgentProbe = (url: string, timeoutMs: number) => Promise<unknown>;

export const httpProbe: AgentProbe = async (url, timeoutMs) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res.json();
};

export type AgentView = { pod: string; backends: AgentBackendHealth[] } | { error: string };

const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** /readyz of the first Ready pod (by name) that has an IP. */
export async function readAgentView(pods: readonly V1Pod[], probe: AgentProbe, timeoutMs: number): Promise<AgentView> {
  const pod = pods.filter((p) => isReady(p) && p.status?.podIP).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))[0];
  if (!pod) return { error: "no Ready gateway pod to ask: the agent's view of its backends is unknown" };
  const port = Number(pod.metadata?.annotations?.[ANNOTATION_OPS_PORT] ?? DEFAULT_OPS_PORT);
  const ip = pod.status!.podIP!;
  const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/readyz`;
  try {
    const body = (await probe(url, timeoutMs)) as { backends?: unknown };
    if (!Array.isArray(body?.backends)) return { error: `the agent's /readyz (pod ${pod.metadata!.name}) lists no backends` };
    return { pod: pod.metadata!.name!, backends: body.backends as AgentBackendHealth[] };
  } catch (e) {
    return { error: `the agent's /readyz (pod ${pod.metadata!.name}, ${url}) could not be read: ${(e as Error).message}` };
  }
}

/**
 * Each backend in the agent config with the agent's `up` and `tools`; ready only when its server
 * is Ready and the agent has it up (a URL backend: the agent's word alone). Without the agent's
 * view, the reason is in the message and `up`/`tools` stay unset.
 */
export function withAgentView(status: readonly MCPGatewayBackendStatus[], view: AgentView): MCPGatewayBackendStatus[] {
  return status.map((b) => {
    if (!b.url) return b; // not in the config (missing, not permitted): the agent does not know it
    if ('error' in view) return { ...b, message: b.message ? `${b.message}; ${view.error}` : view.error };
    const h = view.backends.find((x) => x.name === b.name);
    if (!h) return { ...b, ready: false, reason: 'NotInAgent', message: `not in the agent's /readyz (pod ${view.pod}): it runs an older config` };
    const tools = Number.isInteger(h.tools) && h.tools >= 0 ? { tools: h.tools } : {};
    if (h.up) return { ...b, up: true, ...tools, message: b.server ? b.message : `the agent has it up (pod ${view.pod})` };
    const { reason: _r, ...rest } = b;
    return { ...rest, up: false, ...tools, ready: false, reason: 'BackendDown', message: `the agent (pod ${view.pod}) has it down: ${h.detail}${b.message ? `; the server: ${b.message}` : ''}` };
  });
}
