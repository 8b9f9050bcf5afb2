// Settings that reach a running agent: when the config file (or the OIDC file beside it) changes,
// the policy sections are read again and swapped in at once; a broken file keeps the last good
// set. Kubernetes delivers a changed ConfigMap by rewriting the mounted volume; the reconciler
// nudges the kubelet so that happens within seconds (docs/reconciler.md, "Settings that reach
// running pods").
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { BoundPolicy } from '../agent-policy.js';
import { watchFiles, type FileWatch } from '../ops/file-watch.js';
import { readPolicySections, type AgentOptions } from './options.js';

export interface ConfigReloadDeps {
  bound: Pick<BoundPolicy, 'reload'>;
  logger: Logger;
  /** Counted by result: `applied`, `unchanged`, `failed`. */
  reloads: Counter<'result'>;
  debounceMs?: number;
}

/** Watches the files the policy came from; undefined when it came from flags alone. */
export function watchAgentConfig(options: Pick<AgentOptions, 'config' | 'oidcConfigFile' | 'cedarPolicies'>, deps: ConfigReloadDeps): FileWatch | undefined {
  const files = [options.config, options.oidcConfigFile].filter((f): f is string => !!f);
  if (!files.length) return undefined;
  const log = deps.logger.child({ component: 'config' });
  let running: Promise<void> = Promise.resolve();
  const reload = async () => {
    try {
      const { applied, needRestart } = await deps.bound.reload(await readPolicySections(options));
      deps.reloads.labels(applied.length ? 'applied' : 'unchanged').inc();
      if (applied.length) log.info({ changed: applied, files }, `agent config reloaded: ${applied.join(', ')} in effect for the next request`);
      if (needRestart.length) log.warn({ changed: needRestart, files }, `agent config: ${needRestart.join(', ')} changed; that takes a restart (the reconciler rolls the pods)`);
    } catch (err) {
      deps.reloads.labels('failed').inc();
      log.error({ err: (err as Error).message, files }, 'agent config reload failed; keeping the last good config');
    }
  };
  // One reload at a time, in order: a burst of events never builds two sets at once.
  return watchFiles(files, () => (running = running.then(reload)), { logger: log, what: 'agent config', debounceMs: deps.debounceMs });
}
