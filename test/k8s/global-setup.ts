// vitest globalSetup of the `k8s` project: starts one real cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok when built)
// for the whole suite and stops it afterwards, whatever happened. The Gateway API CRDs
// (GatewayClass, Gateway, HTTPRoute, ReferenceGrant: test/k8s/gateway-api.sh) are installed in it.
//
// In a test file:
//   import { inject } from 'vitest';
//   const kubeconfig = inject('kubeconfig');           // admin kubeconfig path
//   const k8s = inject('k8s');                         // server, dir, logs, nodes, ...
//   await restartSharedApiServer(k8s);                 // from ./cluster.ts
// process.env.KUBECONFIG is set too, so `kc.loadFromDefault()` works.
import type { TestProject } from 'vitest/node';
import { KubeClient } from '../../injector/reconciler/client.js';
import { BUILD_HINT, missingBinaries, serveClusterControl, startCluster, type SharedClusterInfo } from './cluster.js';
import { installGatewayAPICRDs, kubeConfigFrom } from './helpers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    k8s: SharedClusterInfo;
  }
}

const log = (msg: string) => console.log(`[k8s] ${msg}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingBinaries();
  if (missing.length) {
    throw new Error(`The k8s test project needs kube-apiserver, etcd and friends (missing: ${missing.join(', ')}): ${BUILD_HINT}.`);
  }
  const t0 = Date.now();
  const cluster = await startCluster({ log });
  let control: Awaited<ReturnType<typeof serveClusterControl>> | undefined;
  try {
    const client = new KubeClient(kubeConfigFrom(cluster.kubeconfigPath));
    try {
      await installGatewayAPICRDs(client);
    } finally {
      client.close();
    }
    control = await serveClusterControl(cluster);
    const info: SharedClusterInfo = {
      kubeconfigPath: cluster.kubeconfigPath,
      server: cluster.server,
      dir: cluster.dir,
      caCertPath: cluster.caCertPath,
      serviceAccountIssuer: cluster.serviceAccountIssuer,
      nodes: cluster.nodes,
      logs: cluster.logs,
      controlUrl: control.url,
    };
    project.provide('kubeconfig', cluster.kubeconfigPath);
    project.provide('k8s', info);
    process.env.KUBECONFIG = cluster.kubeconfigPath;
    log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cluster.server}; logs in ${cluster.dir}`);
  } catch (err) {
    await control?.close();
    await cluster.stop();
    throw err;
  }
  return async () => {
    await control?.close();
    await cluster.stop();
    log('cluster stopped');
  };
}
