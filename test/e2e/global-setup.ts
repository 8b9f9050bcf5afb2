// vitest globalSetup of the `e2e` project: the real-node cluster (its own network namespace,
// kubelet + containerd, images from test/k8s/images.sh), then the control plane installed the way
// users install it: `kubectl apply -k` (test/e2e/install: manifests/ with the test images), and
// the Gateway API CRDs (GatewayClass, Gateway, HTTPRoute, ReferenceGrant: test/k8s/gateway-api.sh).
import type { TestProject } from 'vitest/node';
import { BUILD_HINT, IMAGES_LIST, missingBinaries, startCluster } from '../k8s/cluster.js';
import { GATEWAY_API_CRDS, gatewayAPIFile } from '../k8s/helpers.js';
import { builtImages } from '../k8s/node.js';
import { kubectl, INSTALL_DIR, useCluster } from './kubectl.js';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eKubeconfig: string;
    e2eClusterDir: string;
    /** The host's end of the node namespace's veth: pods reach fixtures the tests serve there. */
    e2eHostIP: string;
  }
}

const log = (msg: string) => console.log(`[e2e] ${msg}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) throw new Error('the e2e suite runs a kubelet and a network namespace: it needs root');
  const missing = missingBinaries(undefined, ['kubelet', 'kube-proxy', 'kubectl']);
  if (missing.length) throw new Error(`missing Kubernetes binaries (${missing.join(', ')}): ${BUILD_HINT}`);
  if (!builtImages(IMAGES_LIST).length) throw new Error('no images: run `bash test/k8s/images.sh` first');
  const t0 = Date.now();
  const cluster = await startCluster({ realNode: true, kwok: false, log, startTimeoutMs: 300_000 });
  try {
    useCluster(cluster.kubeconfigPath, cluster.dir);
    const t1 = Date.now();
    await kubectl(['apply', '--server-side', '--force-conflicts', ...GATEWAY_API_CRDS.flatMap((c) => ['-f', gatewayAPIFile(c)])]);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-k', INSTALL_DIR]);
    // The examples' kinds must be served before the tests apply them (slow on a loaded machine).
    await kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/mcpservers.ome.io', 'crd/clustermcpservers.ome.io', ...GATEWAY_API_CRDS.map((c) => `crd/${c}`)], { timeoutMs: 130_000 });
    await kubectl(['-n', 'ome-mcp-system', 'rollout', 'status', 'deployment/ome-mcp-injector', '--timeout=240s'], { timeoutMs: 250_000 });
    log(`cluster up in ${((t1 - t0) / 1000).toFixed(1)} s, control plane installed in ${((Date.now() - t1) / 1000).toFixed(1)} s; logs in ${cluster.dir}`);
    project.provide('e2eKubeconfig', cluster.kubeconfigPath);
    project.provide('e2eClusterDir', cluster.dir);
    project.provide('e2eHostIP', cluster.netns!.hostIP);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return async () => {
    await cluster.stop();
    log('cluster stopped');
  };
}
