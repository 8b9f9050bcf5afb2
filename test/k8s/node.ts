// A real Kubernetes node for the test cluster: a network namespace of its own, containerd + runc,
// the CNI bridge, the kubelet and kube-proxy (docs/k8s-test-harness.md, ../shared/REAL-NODE.md).
// cluster.ts starts the control plane inside the same namespace and then calls startNode().
//
// Network: the namespace gets a veth pair to the host (a /30 out of 10.239.0.0/16); its end is the
// node IP, where the API server and etcd listen too. Pod (10.244.0.0/24 on cni0) and Service
// (10.96.0.0/16) addresses exist only inside; the host reaches the API server at the node IP and
// pods only through `kubectl port-forward`; pods reach the host's end, masqueraded as the node IP.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export const POD_SUBNET = '10.244.0.0/24';
export const CLUSTER_DNS_DOMAIN = 'cluster.local';

export interface Netns {
  name: string;
  /** /run/netns/<name>, for `nsenter --net=`. */
  path: string;
  /** The namespace's end of the veth pair: node IP, API server and etcd address. */
  nodeIP: string;
  /** The host's end. */
  hostIP: string;
  /** argv prefix that runs a command inside the namespace. */
  wrap(argv: string[]): string[];
  /** Runs a command inside the namespace and returns its stdout. */
  exec(argv: string[]): string;
  remove(): void;
}

const run = (argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Creates a network namespace with loopback up and a veth pair to the host. Needs root. */
export function createNetns(): Netns {
  const used = new Set(run(['ip', '-o', '-4', 'addr', 'show']).match(/10\.239\.\d+\.\d+/g) ?? []);
  let n = 0;
  for (let tries = 0; tries < 500; tries++) {
    const candidate = 1 + Math.floor(Math.random() * 16000);
    if (!used.has(`10.239.${candidate >> 6}.${(candidate & 63) * 4 + 1}`)) {
      n = candidate;
      break;
    }
  }
  if (!n) throw new Error('no free 10.239.0.0/16 /30 for the node namespace');
  const id = n.toString(36);
  const name = `ome-mcp-${id}`;
  const third = n >> 6;
  const base = (n & 63) * 4;
  const hostIP = `10.239.${third}.${base + 1}`;
  const nodeIP = `10.239.${third}.${base + 2}`;
  const hostIf = `omh${id}`;
  const nsIf = `omn${id}`;
  const nsPath = `/run/netns/${name}`;
  const wrap = (argv: string[]) => ['nsenter', `--net=${nsPath}`, '--', ...argv];
  run(['ip', 'netns', 'add', name]);
  try {
    run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run(['ip', 'link', 'set', nsIf, 'netns', name]);
    run(['ip', 'addr', 'add', `${hostIP}/30`, 'dev', hostIf]);
    run(['ip', 'link', 'set', hostIf, 'up']);
    const inNs = (argv: string[]) => run(wrap(argv));
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    inNs(['ip', 'addr', 'add', `${nodeIP}/30`, 'dev', nsIf]);
    inNs(['ip', 'link', 'set', nsIf, 'up']);
    // A default route gives Service IPs a route for kube-proxy's DNAT; the host does not
    // forward, so nothing leaves the machine.
    inNs(['ip', 'route', 'add', 'default', 'via', hostIP]);
    // Pods reach Services through the node: routing, and bridged traffic through iptables.
    inNs(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    inNs(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    // Pods may reach the host's end (tests serve pod-facing fixtures there, e.g. an OIDC issuer),
    // as the node IP: the host has no route to the pod subnet.
    inNs(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', POD_SUBNET, '-o', nsIf, '-j', 'MASQUERADE']);
  } catch (err) {
    removeNetns(name, hostIf);
    throw err;
  }
  return {
    name,
    path: nsPath,
    nodeIP,
    hostIP,
    wrap,
    exec: (argv) => run(wrap(argv)),
    remove: () => removeNetns(name, hostIf),
  };
}

function removeNetns(name: string, hostIf: string): void {
  for (const argv of [
    ['ip', 'link', 'del', hostIf],
    ['ip', 'netns', 'del', name],
  ]) {
    try {
      run(argv);
    } catch {
      /* already gone */
    }
  }
}

export interface NodeFiles {
  containerdConfig: string;
  containerdSocket: string;
  kubeletConfig: string;
  kubeProxyConfig: string;
  cgroupRoot: string;
  /** The CNI network's name: its results under /var/lib/cni/results start with it. */
  cniNetwork: string;
}

/**
 * Writes containerd's, the CNI's, the kubelet's and kube-proxy's configuration under `dir`. The
 * settings each line carries are the ones REAL-NODE.md found necessary on these machines.
 */
export async function writeNodeConfig(o: {
  dir: string;
  nodeIP: string;
  nodeName: string;
  caCertPath: string;
  kubeconfigPath: string;
  pauseImage: string;
  podCIDR: string;
  /** Address of the cluster DNS (test/k8s/dns.ts). */
  clusterDNS: string;
  /** Name of the cgroup under which the kubelet puts every pod, and of the CNI network (unique per cluster). */
  cgroupName: string;
}): Promise<NodeFiles> {
  const d = (...p: string[]) => path.join(o.dir, ...p);
  for (const sub of ['containerd/root', 'containerd/state', 'containerd/runc', 'containerd/opt', 'cni/net.d', 'cni/ipam', 'kubelet', 'kubelet-pki']) {
    await mkdir(d(sub), { recursive: true });
  }
  const socket = d('containerd', 'containerd.sock');
  writeFileSync(
    d('containerd', 'config.toml'),
    `version = 2
root = "${d('containerd', 'root')}"
state = "${d('containerd', 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${d('containerd', 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${o.pauseImage}"
  # root here lacks CAP_SYS_RESOURCE: negative oom_score_adj makes runc create fail
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${d('containerd', 'runc')}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${d('cni', 'net.d')}"
`,
  );
  writeFileSync(
    d('cni', 'net.d', '10-ome-mcp.conflist'),
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: o.cgroupName,
        plugins: [
          {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: o.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: d('cni', 'ipam') },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );
  // Pods resolve through the cluster DNS only; a file of our own keeps the host's resolvers out.
  writeFileSync(d('resolv.conf'), '');
  const cgroupRoot = `/${o.cgroupName}`;
  createCgroupRoot(cgroupRoot);
  const kubelet = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine has cgroup v1 hierarchies; kubelet 1.37 refuses them unless told otherwise.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot,
    failSwapOn: false,
    resolvConf: d('resolv.conf'),
    containerRuntimeEndpoint: `unix://${socket}`,
    address: o.nodeIP,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    clusterDomain: CLUSTER_DNS_DOMAIN,
    clusterDNS: [o.clusterDNS],
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.caCertPath } },
    authorization: { mode: 'Webhook' },
    // Test machines have small or full disks: never evict for disk, never garbage-collect the
    // images imported at start (they cannot be pulled again).
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    maxPods: 110,
    fileCheckFrequency: '5s',
    syncFrequency: '10s',
    nodeStatusReportFrequency: '10s',
    shutdownGracePeriod: '0s',
    containerLogMaxSize: '5Mi',
  };
  writeFileSync(d('kubelet.yaml'), JSON.stringify(kubelet, null, 2));
  const proxy = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: o.kubeconfigPath },
    mode: 'iptables',
    clusterCIDR: o.podCIDR,
    hostnameOverride: o.nodeName,
    bindAddress: o.nodeIP,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // nf_conntrack_max is the host's, not the namespace's: leave it alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  };
  writeFileSync(d('kube-proxy.yaml'), JSON.stringify(proxy, null, 2));
  return { containerdConfig: d('containerd', 'config.toml'), containerdSocket: socket, kubeletConfig: d('kubelet.yaml'), kubeProxyConfig: d('kube-proxy.yaml'), cgroupRoot, cniNetwork: o.cgroupName };
}

/**
 * The kubelet wants its cgroupRoot to exist in every v1 hierarchy. A new cpuset cgroup starts
 * with no CPUs and no memory nodes, so those are copied from the parent.
 */
function createCgroupRoot(root: string): void {
  for (const ctrl of readdirSafe('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', ctrl);
    if (ctrl === 'unified' || !isDir(top)) continue;
    const dir = path.join(top, root);
    mkdirSync(dir, { recursive: true });
    if (ctrl === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(path.join(dir, f), readFileSafe(path.join(top, f)).trim() || '0');
    }
  }
}

/** Image archives built by test/k8s/images.sh: `tag archive` per line. */
export function builtImages(listFile: string): { tag: string; archive: string }[] {
  if (!existsSync(listFile)) return [];
  return readFileSync(listFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tag, archive] = line.split(' ');
      return { tag: tag!, archive: archive! };
    });
}

/**
 * What the daemons leave outside their scratch directory (REAL-NODE.md): the kubelet's cgroups,
 * containerd's shim sockets, CNI's result cache. Safe to call when nothing is there.
 */
export function cleanupNodeLeftovers(cgroupRoot: string, cniNetwork: string): void {
  for (const ctrl of readdirSafe('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', ctrl, cgroupRoot);
    if (existsSync(top)) removeCgroupTree(top);
  }
  for (const f of readdirSafe('/var/lib/cni/results')) {
    // Only this cluster's: another checkout's cluster may be running beside it.
    if (f.startsWith(`${cniNetwork}-`)) rmSync(path.join('/var/lib/cni/results', f), { force: true });
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** cgroup directories go bottom-up with rmdir (their files cannot be unlinked). */
function removeCgroupTree(dir: string): void {
  for (const entry of readdirSafe(dir)) {
    const p = path.join(dir, entry);
    if (isDir(p)) removeCgroupTree(p);
  }
  try {
    rmdirSync(dir);
  } catch {
    /* busy: a process is still in it */
  }
}

/**
 * Stops what outlives the kubelet and containerd: the containers' processes (found by the node's
 * cgroup root) and their shims (found by containerd's socket path in their arguments), then
 * unmounts what containerd and the kubelet mounted under `dir` (snapshots, netns, volumes).
 */
export function killNodeProcesses(cgroupRoot: string, dir: string): void {
  const pids = new Set<number>();
  const collect = (cg: string) => {
    for (const entry of readdirSafe(cg)) {
      const p = path.join(cg, entry);
      if (entry === 'cgroup.procs') {
        for (const line of readFileSafe(p).split('\n')) if (line) pids.add(Number(line));
      } else if (isDir(p)) collect(p);
    }
  };
  collect(path.join('/sys/fs/cgroup/pids', cgroupRoot));
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (readFileSafe(`/proc/${entry}/cmdline`).includes(dir)) pids.add(Number(entry));
  }
  pids.delete(process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const mounts = readFileSafe('/proc/mounts')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((m) => m.replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* already unmounted with its parent */
    }
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
