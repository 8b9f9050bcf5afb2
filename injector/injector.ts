/**
 * The ome-mcp-injector process: the HTTPS admission webhook, a plain-HTTP health/metrics server,
 * certificate management (mounted Secret or self-bootstrap + caBundle upkeep), and — behind the
 * MCPServerSupport feature gate — the MCPServer reconciler. main.ts is the CLI around this.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { FEATURE_GATE_MCP_SERVER_SUPPORT } from '../api/annotations.js';
import type { InjectorOptions } from './options.js';
import { startReconciler } from './reconciler/index.js';
import { startWebhookServer, type WebhookServer } from './webhook/server.js';
import { bootstrapTls, ensureCaBundle, isUsable, readTlsDir, serviceDnsNames, watchTlsDir, type TlsMaterial } from './webhook/tls.js';

export const INJECTOR_VERSION = '0.1.0';

export interface RunningInjector {
  webhook: WebhookServer;
  /** http://host:port of /healthz, /readyz, /metrics */
  healthUrl: string;
  /** Stops serving: not-ready first, then (after shutdownDelay) closes everything. */
  stop(): Promise<void>;
}

/** What the reconciler hands back (injector/reconciler/index.ts). */
interface ReconcilerHandle {
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export async function startInjector(options: InjectorOptions, logger: Logger): Promise<RunningInjector> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ome_mcp_injector_' });
  const stoppers: Array<() => void | Promise<void>> = [];
  let kc: KubeConfig | undefined;
  const kube = () => (kc ??= loadKubeConfig(options.kubeconfig));

  // ---- TLS ----------------------------------------------------------------------------------
  let tls: TlsMaterial;
  const bootstrap = () =>
    bootstrapTls({
      core: kube().makeApiClient(CoreV1Api),
      namespace: options.namespace,
      secretName: options.tlsSecret,
      service: options.service,
      extraDnsNames: options.tlsDnsNames,
      ipAddresses: options.tlsIpAddresses,
    });
  if (options.tlsDir) {
    tls = await readTlsDir(options.tlsDir);
    logger.info({ dir: options.tlsDir }, 'serving certificate from mounted secret');
  } else {
    tls = await bootstrap();
    logger.info({ secret: `${options.namespace}/${options.tlsSecret}` }, 'serving self-bootstrapped certificate');
  }

  const webhook = await startWebhookServer({
    tls,
    settings: options.settings,
    host: options.webhookHost,
    port: options.webhookPort,
    logger,
    registry,
  });
  stoppers.push(() => webhook.close());
  logger.info({ url: webhook.url, agentImage: options.settings.agentImage }, 'admission webhook listening');

  if (options.tlsDir) {
    stoppers.push(
      watchTlsDir(
        options.tlsDir,
        (m) => {
          tls = m;
          webhook.setTls(m);
          logger.info('serving certificate rotated');
        },
        (err) => logger.warn({ err: err.message }, 'cannot re-read the serving certificate'),
      ),
    );
  }

  // caBundle upkeep: now, then every minute (puts it back if a re-apply of the manifests cleared
  // it, and renews a self-bootstrapped certificate 30 days before it expires).
  let caOk = !options.patchCaBundle;
  // Set when stop() begins. A stopping replica writes no caBundle any more: during its shutdown
  // delay another injector (the next rollout's, or one run outside the cluster) may already have
  // published its own CA, which this one would otherwise put back for up to a minute.
  let stopping = false;
  if (options.patchCaBundle) {
    const api = kube().makeApiClient(AdmissionregistrationV1Api);
    const upkeep = async () => {
      if (stopping) return;
      if (!options.tlsDir && !isUsable(tls, [...serviceDnsNames(options.service, options.namespace), ...options.tlsDnsNames])) {
        tls = await bootstrap();
        webhook.setTls(tls);
        logger.info('self-bootstrapped certificate renewed');
      }
      if (!tls.ca) throw new Error(`no CA to publish: ${options.tlsDir}/ca.crt is missing`);
      const changed = await ensureCaBundle(api, options.webhookConfig, tls.ca);
      if (changed) logger.info({ webhookConfiguration: options.webhookConfig, webhooks: changed }, 'caBundle updated');
      caOk = true;
    };
    await upkeep().catch((err: Error) => logger.error({ err: err.message }, 'cannot update caBundle (will retry)'));
    const timer = setInterval(() => void upkeep().catch((err: Error) => logger.warn({ err: err.message }, 'caBundle upkeep failed')), 60_000);
    timer.unref();
    stoppers.push(() => clearInterval(timer));
  }

  // ---- reconciler -----------------------------------------------------------------------------
  let reconciler: ReconcilerHandle | undefined;
  if (options.featureGates[FEATURE_GATE_MCP_SERVER_SUPPORT]) {
    reconciler = await startMCPServerReconciler(options, kube(), logger);
  } else {
    logger.info(`feature gate ${FEATURE_GATE_MCP_SERVER_SUPPORT} is off: MCPServer reconciler not started`);
  }

  // ---- health ---------------------------------------------------------------------------------
  const health = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = !stopping && webhook.server.listening;
      const detail = stopping ? 'shutting down' : caOk ? 'ok' : 'serving; caBundle not yet published';
      // caBundle trouble does not make this replica unready: it can serve, and readiness gates
      // the Service, not the API server's trust.
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${detail}\n`);
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(options.healthPort, options.healthHost, () => resolve());
  });
  const hp = (health.address() as AddressInfo).port;
  const healthUrl = `http://${options.healthHost === '0.0.0.0' ? '127.0.0.1' : options.healthHost}:${hp}`;
  stoppers.push(
    () =>
      new Promise<void>((resolve) => {
        health.close(() => resolve());
        health.closeAllConnections();
      }),
  );

  let stopped: Promise<void> | undefined;
  return {
    webhook,
    healthUrl,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        // Keep answering admissions while endpoints controllers and kube-proxy take this replica
        // out of the Service; the API server would otherwise see refused connections.
        if (options.shutdownDelay > 0) await new Promise((r) => setTimeout(r, options.shutdownDelay * 1000));
        await reconciler?.stop().catch((err: Error) => logger.warn({ err: err.message }, 'reconciler stop failed'));
        for (const s of stoppers.reverse()) await s();
      })()),
  };
}

/** The single call site of the reconciler (injector/reconciler/index.ts). */
async function startMCPServerReconciler(options: InjectorOptions, kc: KubeConfig, logger: Logger): Promise<ReconcilerHandle | undefined> {
  const { agentImage, ...injector } = options.settings;
  return startReconciler({
    kubeConfig: kc,
    namespace: options.namespace,
    featureGates: options.featureGates,
    agentImage,
    injector,
    leaderElection: options.leaderElect,
    logger: logger.child({ component: 'reconciler' }),
  });
}
