import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom.js';

/** Methods get their own label value; anything else is `other`, so clients cannot blow up cardinality. */
const KNOWN_METHODS = new Set([
  'initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list',
  'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'completion/complete', 'logging/setLevel', 'server/discover', 'subscriptions/listen',
]);

/**
 * prom-client's event-loop delay monitor wakes the process this often (its default, 10 ms, cost
 * an idle agent ~9 ms of CPU a second). Every stall of 100 ms or more is seen; a shorter one in
 * proportion to its length.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

export type Outcome = 'ok' | 'error' | 'timeout' | 'cancelled' | 'restarted' | 'denied';

/** The agent's Prometheus metrics, with label children cached so the hot path does no hashing. */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'ome_mcp_requests_total',
    help: 'Client requests by MCP method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'ome_mcp_request_duration_seconds',
    help: 'Time from a client request to its response',
    labelNames: ['method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly sessions = new Gauge({ name: 'ome_mcp_sessions', help: 'Open client sessions', registers: [this.registry] });
  readonly upstreamRestarts = new Counter({
    name: 'ome_mcp_upstream_restarts_total',
    help: 'Times the MCP server was restarted after exiting or failing to initialize',
    registers: [this.registry],
  });
  readonly upstreamUp = new Gauge({ name: 'ome_mcp_upstream_up', help: '1 while the MCP server is initialized', registers: [this.registry] });
  readonly configReloads = new Counter({
    name: 'ome_mcp_agent_config_reloads_total',
    help: 'Changes of the agent config files seen, by result: applied, unchanged (nothing reloadable changed), failed (the last good config stays)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly durationChildren = new Map<string, Histogram.Internal<'method'>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ome_mcp_agent_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  observeRequest(method: string, outcome: Outcome, seconds: number): void {
    const m = KNOWN_METHODS.has(method) ? method : 'other';
    const key = m + '|' + outcome;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.requests.labels(m, outcome);
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    let hist = this.durationChildren.get(m);
    if (hist === undefined) {
      hist = this.duration.labels(m);
      this.durationChildren.set(m, hist);
    }
    hist.observe(seconds);
  }
}
