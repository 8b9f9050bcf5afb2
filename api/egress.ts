// The agent's egress proxy as the agent config declares it (the grammar of its allowHost entries,
// shared by the reconciler and the agent, is api/egress-hosts.ts).
import { Type, type Static } from 'typebox';
import { Int32 } from './v1beta1/schema.js';

/** Port of the proxy on the pod's loopback (Squid's customary one; moved aside when the server's ports take it). */
export const DEFAULT_EGRESS_PORT = 3128;
/** What the server reaches without the proxy: its own pod's loopback (the agent, sidecars). */
export const EGRESS_NO_PROXY = 'localhost,127.0.0.1,::1';

export const AgentEgress = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'Port of the proxy on 127.0.0.1 (0: any free port).' }),
    allowHost: Type.Array(Type.String({ minLength: 1 }), {
      description: 'Hosts the server may reach: `name`, `.domain` (domain and names under it), `*.domain` (names under it), IPs and CIDRs. Empty: any host on allowPort.',
    }),
    allowPort: Type.Array(Int32({ minimum: 1, maximum: 65535 }), { description: 'Ports the server may reach. Empty: any port of allowHost.' }),
  },
  {
    description:
      'An HTTP forward and CONNECT proxy on 127.0.0.1 that allows only these destinations (permissionProfile.network.outbound); the server container is given HTTP_PROXY/HTTPS_PROXY pointing at it. Both lists empty: nothing is allowed.',
  },
);
export type AgentEgress = Static<typeof AgentEgress>;

export { allowHostIssues, isHostName, normalizeHost, parseHostEntry, type HostEntry } from './egress-hosts.js';
