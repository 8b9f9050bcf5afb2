// Attach without escalation, on the real node: the server container of an attach-bridge pod holds
// no API credentials, and the agent's own token — the only one in the pod — is refused by the
// ome-mcp-attach-own-pod admission policy when it tries another server's pod, while its own pod
// passes admission.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { idpFetch } from '../../agent/policy/authn/net.js';
import { kubeConfigFrom } from '../k8s/helpers.js';
import { applyExamples, getJSON, kubectl, useCluster, waitReady } from './kubectl.js';

const NS = 'mcp-demo';
const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const kubeconfig = inject('e2eKubeconfig');
useCluster(kubeconfig, inject('e2eClusterDir'));
beforeAll(applyExamples);

const podOf = async (server: string) => (await getJSON(['-n', NS, 'get', 'pods', '-l', `mcp.ome.io/mcpserver=${server}`])).items[0].metadata.name as string;
const node = (pod: string, container: string, script: string) => kubectl(['-n', NS, 'exec', pod, '-c', container, '--', 'node', '-e', script]);

/** A pods/attach request as the token's holder (admission runs before any stream is set up). */
async function attach(token: string, pod: string): Promise<{ status: number; body: string }> {
  const cluster = kubeConfigFrom(kubeconfig).getCurrentCluster()!;
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString() : readFileSync(cluster.caFile!, 'utf8');
  return idpFetch(`${cluster.server}/api/v1/namespaces/${NS}/pods/${pod}/attach?container=mcp&stdin=true&stdout=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    allowPrivate: true,
    ca,
  });
}

describe('attach without escalation', () => {
  it('the server container has no API credentials; the agent’s token may attach to its own pod only', async () => {
    await waitReady('mcpserver', 'everything-attach', NS);
    await waitReady('mcpserver', 'everything-fifo', NS);
    const own = await podOf('everything-attach');
    const other = await podOf('everything-fifo');
    expect(await node(own, 'mcp', `process.stdout.write(String(require('fs').existsSync('${TOKEN}')))`)).toBe('false');
    const token = await node(own, 'mcp-agent', `process.stdout.write(require('fs').readFileSync('${TOKEN}', 'utf8'))`);

    const refused = await attach(token, other);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/ome-mcp-attach-own-pod: .* may attach only to the pod its token was issued for/);
    // Its own pod passes admission (the request then fails only for want of a stream upgrade).
    const allowed = await attach(token, own);
    expect(allowed.body).not.toMatch(/ome-mcp-attach-own-pod/);
    expect(allowed.status).not.toBe(403);
  });
});
