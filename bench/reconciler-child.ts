// The reconciler process of bench/reconciler.ts: `node dist/bench-reconciler.mjs <kubeconfig> <namespace>`.
// Prints {leader, stats} as a JSON line every 200 ms; stops cleanly on SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { startReconciler } from '../injector/reconciler/index.js';

const [kubeconfig, systemNs] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig!);
const r = await startReconciler({
  kubeConfig: kc,
  namespace: systemNs!,
  agentImage: 'example.com/ome-mcp-agent:bench',
  // kwok pods' IPs are only data: an MCPGateway's agent is never asked.
  agentProbe: false,
  workers: Number(process.env.BENCH_WORKERS ?? 16),
  maxSockets: Number(process.env.BENCH_SOCKETS ?? 32),
  logger: pino({ level: process.env.BENCH_LOG ?? 'warn' }, pino.destination(2)),
  leaderElection: true,
});
const timer = setInterval(() => process.stdout.write(JSON.stringify({ leader: r.isLeader(), stats: r.stats() }) + '\n'), 200);
const stop = async () => {
  clearInterval(timer);
  await r.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
