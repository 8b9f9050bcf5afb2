// Entry point of the MCPServer / ClusterMCPServer reconciler:
//
//   const r = await startReconciler({ kubeConfig, namespace: 'ome-mcp-system', agentImage, featureGates });
//   ...
//   await r.stop();
//
// With the MCPServerSupport gate off nothing starts (`r.enabled === false`). With leader election
// on (the default) the controller runs only while this process holds the Lease
// `<namespace>/ome-mcp-reconciler`; losing it stops the controller, regaining it starts a fresh one.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { FEATURE_GATE_MCP_SERVER_SUPPORT } from '../../api/annotations.js';
import type { InjectorSettings } from '../mutation/index.js';
import { KubeClient } from './client.js';
import { Controller, type ControllerStats, type Logger } from './controller.js';
import { parseFeatureGates, type FeatureGates } from './features.js';
import { LeaderElector } from './leader.js';
import { httpProbe, type AgentProbe } from './mcpgateway/agent-view.js';

export { parseFeatureGates, DEFAULT_FEATURE_GATES, type FeatureGates } from './features.js';
export type { ControllerStats, Logger } from './controller.js';

export interface ReconcilerOptions {
  kubeConfig: KubeConfig;
  /** The injector's namespace: the leader Lease and every ClusterMCPServer's objects live here. */
  namespace: string;
  /** `"MCPServerSupport=true"` or `{ MCPServerSupport: true }`; see DEFAULT_FEATURE_GATES. */
  featureGates?: string | FeatureGates;
  /** Agent image for the pods (the same setting the webhook uses). */
  agentImage: string;
  /** Further injection settings (resources, pull policy, …) shared with the webhook. */
  injector?: Omit<InjectorSettings, 'agentImage'>;
  /** Only reconcile MCPServers in this namespace (default: all). */
  watchNamespace?: string;
  /** Parallel reconciles (default 8). */
  workers?: number;
  /** Re-reconcile everything this often (default 10 min). */
  resyncMs?: number;
  /**
   * A server whose declared objects read Secret keys is looked at again this often (default 1 min):
   * Secrets are not watched, so this is how a rotated value reaches its catalog Secret.
   */
  secretPollMs?: number;
  /** Retry backoff of a failing server (default 500 ms doubling to 30 s). */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  clusterDomain?: string;
  /** Leader election (default on). */
  leaderElection?: boolean | { leaseName?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Unique id of this process (default hostname + random suffix). */
  identity?: string;
  logger?: Logger;
  /** Concurrent connections to the API server (default 32). */
  maxSockets?: number;
  /**
   * How an MCPGateway's agent /readyz (pod IP, ops port) is read for the per-backend status
   * (default: HTTP GET); false: never (where the pods' IPs are not reachable, e.g. kwok nodes).
   */
  agentProbe?: AgentProbe | false;
}

export interface Reconciler {
  /** False when the MCPServerSupport feature gate is off (nothing was started). */
  readonly enabled: boolean;
  isLeader(): boolean;
  /** Counters of the current leadership term (zeros when not leading). */
  stats(): ControllerStats;
  stop(): Promise<void>;
}

const EMPTY_STATS: ControllerStats = { reconciles: 0, errors: 0, applies: 0, statusWrites: 0, queued: 0, busy: 0, apiRequests: 0, apiMeanMs: 0 };

export async function startReconciler(opts: ReconcilerOptions): Promise<Reconciler> {
  const gates = parseFeatureGates(opts.featureGates);
  const log: Logger = opts.logger ?? pino({ name: 'ome-mcp-reconciler' }, pino.destination({ fd: 2, sync: false }));
  if (!gates[FEATURE_GATE_MCP_SERVER_SUPPORT]) {
    log.info({ gate: FEATURE_GATE_MCP_SERVER_SUPPORT }, 'feature gate off: MCPServer reconciler not started');
    return { enabled: false, isLeader: () => false, stats: () => ({ ...EMPTY_STATS }), stop: async () => {} };
  }
  if (!opts.agentImage) throw new Error('startReconciler: agentImage is required');
  const identity = opts.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const client = new KubeClient(opts.kubeConfig, { maxSockets: opts.maxSockets });
  let controller: Controller | undefined;
  let term: Promise<void> = Promise.resolve();
  let stopped = false;

  const startController = () => {
    term = term.then(async () => {
      if (stopped || controller) return;
      controller = new Controller({
        kc: opts.kubeConfig,
        client,
        namespace: opts.namespace,
        watchNamespace: opts.watchNamespace,
        injector: { ...(opts.injector ?? {}), agentImage: opts.agentImage },
        workers: opts.workers ?? 8,
        clusterDomain: opts.clusterDomain ?? 'cluster.local',
        resyncMs: opts.resyncMs ?? 10 * 60_000,
        secretPollMs: opts.secretPollMs ?? 60_000,
        backoff: { baseDelayMs: opts.backoff?.baseDelayMs ?? 500, maxDelayMs: opts.backoff?.maxDelayMs ?? 30_000 },
        identity,
        log,
        agentProbe: opts.agentProbe ?? httpProbe,
      });
      const c = controller;
      // Don't hold the term chain while caches sync: stopping must be able to interrupt it.
      void c.start().catch((e: unknown) => log.error({ err: (e as Error).message }, 'controller failed to start'));
    });
  };
  const stopController = () => {
    term = term.then(async () => {
      const c = controller;
      controller = undefined;
      await c?.stop();
    });
  };

  const le = opts.leaderElection ?? true;
  let elector: LeaderElector | undefined;
  if (le === false) {
    startController();
  } else {
    const cfg = typeof le === 'object' ? le : {};
    elector = new LeaderElector({
      client,
      namespace: opts.namespace,
      name: cfg.leaseName ?? 'ome-mcp-reconciler',
      identity,
      leaseDurationMs: cfg.leaseDurationMs,
      renewDeadlineMs: cfg.renewDeadlineMs,
      retryPeriodMs: cfg.retryPeriodMs,
      onStartedLeading: startController,
      onStoppedLeading: stopController,
      log: (msg, extra) => log.info(extra ?? {}, msg),
    });
    elector.start();
  }
  log.info({ identity, namespace: opts.namespace, leaderElection: le !== false }, 'MCPServer reconciler started');

  return {
    enabled: true,
    isLeader: () => (elector ? elector.isLeader : true),
    stats: () => controller?.snapshot() ?? { ...EMPTY_STATS },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (elector) await elector.stop();
      stopController();
      await term;
      client.close();
      log.info({ identity }, 'MCPServer reconciler stopped');
    },
  };
}
