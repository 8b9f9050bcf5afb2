// Cluster DNS for the real-node test cluster: answers A queries for Service names
// (`<svc>.<ns>.svc.<domain>`, and the short forms through the pods' search path) from the API
// server's Service list, NXDOMAIN for every other name. No recursion: pods have no way out.
// Runs inside the node's network namespace (cluster.ts starts it with nsenter):
//   node --import tsx test/k8s/dns.ts <listen-ip> <kubeconfig> <cluster-domain>
// CoreDNS would be a second large Go build for the one thing the tests need from it.
import dgram from 'node:dgram';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import * as packet from 'dns-packet';

const [listenIP, kubeconfig, domain = 'cluster.local'] = process.argv.slice(2);
if (!listenIP || !kubeconfig) {
  console.error('usage: dns.ts <listen-ip> <kubeconfig> [cluster-domain]');
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);

/** FQDN (lower case, no trailing dot) → ClusterIP. */
let records = new Map<string, string>();
async function refresh(): Promise<void> {
  try {
    const list = await core.listServiceForAllNamespaces();
    const next = new Map<string, string>();
    for (const s of list.items) {
      const ip = s.spec?.clusterIP;
      if (ip && ip !== 'None') next.set(`${s.metadata!.name}.${s.metadata!.namespace}.svc.${domain}`, ip);
    }
    records = next;
  } catch (err) {
    console.error(`listing Services: ${(err as Error).message}`);
  }
}
await refresh();
setInterval(() => void refresh(), 1000).unref();

const server = dgram.createSocket('udp4');
server.on('message', (msg, rinfo) => {
  let query: packet.Packet;
  try {
    query = packet.decode(msg);
  } catch {
    return; // not DNS
  }
  const q = query.questions?.[0];
  const name = q?.name.toLowerCase().replace(/\.$/, '') ?? '';
  const ip = q?.type === 'A' ? records.get(name) : undefined;
  const known = records.has(name); // an AAAA for a Service: NOERROR without answers
  const reply = packet.encode({
    id: query.id,
    type: 'response',
    flags: packet.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3: NXDOMAIN
    questions: query.questions,
    answers: ip ? [{ type: 'A', class: 'IN', name: q!.name, ttl: 5, data: ip }] : [],
  });
  server.send(reply, rinfo.port, rinfo.address);
});
server.bind(53, listenIP, () => console.error(`cluster DNS on ${listenIP}:53 for *.svc.${domain}`));
