// prom-client, the parts the agent uses. Its index also loads the Pushgateway (node:https,
// node:zlib), the cluster aggregator (node:cluster) and Summary: ~15 ms of the agent's start-up
// on Node 24 (docs/benchmarks.md) for nothing the agent serves. Same classes, same registry.
export { default as Registry } from 'prom-client/lib/registry.js';
export { default as Counter } from 'prom-client/lib/counter.js';
export { default as Gauge } from 'prom-client/lib/gauge.js';
export { default as Histogram } from 'prom-client/lib/histogram.js';
export { default as collectDefaultMetrics } from 'prom-client/lib/defaultMetrics.js';
