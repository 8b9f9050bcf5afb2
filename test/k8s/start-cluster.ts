// `npm run cluster`: starts the real-node test cluster (its own network namespace, a real kubelet)
// for manual use, prints how to reach it, and runs until Ctrl-C. Needs root, `bash test/k8s/build.sh`
// and `bash test/k8s/images.sh`.
import { startCluster } from './cluster.js';

const cluster = await startCluster({ realNode: true, kwok: false, log: (m) => console.error(`[cluster] ${m}`), startTimeoutMs: 240_000 });
console.log(`
  kubeconfig: ${cluster.kubeconfigPath}
  API server: ${cluster.server} (node IP in namespace ${cluster.netns?.name})

  export KUBECONFIG=${cluster.kubeconfigPath}
  test/k8s/bin/kubectl get nodes
  test/k8s/bin/kubectl port-forward svc/<name> 8080:8080     # reach a pod from this side, on 127.0.0.1

  Images built by test/k8s/images.sh are loaded (imagePullPolicy: Never). Ctrl-C stops the cluster.
`);
// Ctrl-C reaches the cluster's processes too (one process group); stop() still finds and cleans
// up what they leave (containers, mounts, cgroups, the namespace). Further signals while it runs
// are ignored: interrupting the cleanup is what leaves things behind.
let stopping = false;
const stop = () => {
  if (stopping) return void console.error('[cluster] still stopping; cleaning up containers, mounts and the network namespace');
  stopping = true;
  console.error('[cluster] stopping');
  cluster.stop().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`[cluster] stop failed: ${err.message}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
