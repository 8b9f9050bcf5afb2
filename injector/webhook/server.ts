/**
 * The webhook's HTTPS server (node:https). Two admission paths, one per webhook entry of the
 * MutatingWebhookConfiguration, so the handler knows why it was called without looking anything
 * up in the API server:
 *   POST /inject/namespace — the namespace is labelled mcp.ome.io/injection=enabled
 *   POST /inject/pod       — any other namespace: only pods annotated mcp.ome.io/inject: "true"
 * Plus GET /healthz. Bodies are capped, malformed reviews get a 400 with a message, and no
 * request can crash the process.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InjectorSettings, OptIn } from '../mutation/index.js';
import { reviewAdmission } from './admission.js';
import type { TlsMaterial } from './tls.js';

export const NAMESPACE_PATH = '/inject/namespace';
export const POD_PATH = '/inject/pod';

export interface WebhookServerOptions {
  tls: TlsMaterial;
  settings: InjectorSettings;
  host?: string;
  port?: number;
  logger?: Logger;
  registry?: Registry;
  /** Largest AdmissionReview accepted (default 8 MiB; the API server caps objects near 3 MiB). */
  maxBodyBytes?: number;
}

export interface WebhookServer {
  server: https.Server;
  /** https://host:port */
  url: string;
  port: number;
  /** Serves a new certificate from the next handshake on (rotation). */
  setTls(m: TlsMaterial): void;
  close(): Promise<void>;
}

const PATHS: Record<string, OptIn> = { [NAMESPACE_PATH]: 'namespace', [POD_PATH]: 'pod' };

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const log = options.logger;
  const registry = options.registry;
  // One set of metrics per registry, however many servers share it.
  const admissions = registry
    ? ((registry.getSingleMetric('ome_mcp_injector_admissions_total') as Counter<'path' | 'outcome'> | undefined) ??
      new Counter({
        name: 'ome_mcp_injector_admissions_total',
        help: 'AdmissionReviews answered, by path and outcome (injected, skipped, denied, ignored, malformed).',
        labelNames: ['path', 'outcome'] as const,
        registers: [registry],
      }))
    : undefined;
  const latency = registry
    ? ((registry.getSingleMetric('ome_mcp_injector_admission_duration_seconds') as Histogram<'path'> | undefined) ??
      new Histogram({
        name: 'ome_mcp_injector_admission_duration_seconds',
        help: 'Time from the end of the request body to the response.',
        labelNames: ['path'] as const,
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1],
        registers: [registry],
      }))
    : undefined;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0]!;
    if (req.method === 'GET' && pathOnly === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const optIn = PATHS[pathOnly];
    if (!optIn) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such path: ${pathOnly} (admission paths: ${NAMESPACE_PATH}, ${POD_PATH})\n`);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('POST an AdmissionReview\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (size > maxBody) {
        aborted = true;
        admissions?.inc({ path: pathOnly, outcome: 'malformed' });
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end(`AdmissionReview larger than ${maxBody} bytes\n`);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (aborted) return;
      const started = process.hrtime.bigint();
      const answer = reviewAdmission(Buffer.concat(chunks, size).toString('utf8'), optIn, options.settings);
      res.writeHead(answer.status, {
        'content-type': answer.status === 200 ? 'application/json' : 'text/plain',
        'content-length': Buffer.byteLength(answer.body),
      });
      res.end(answer.body);
      latency?.observe({ path: pathOnly }, Number(process.hrtime.bigint() - started) / 1e9);
      admissions?.inc({ path: pathOnly, outcome: answer.outcome });
      // Denials and malformed reviews are worth a line; injections are recorded on the pod
      // (mcp.ome.io/injected) and in the API server's audit log, so they are debug here.
      if (log && (answer.outcome === 'denied' || answer.outcome === 'malformed')) {
        log.warn({ uid: answer.uid, namespace: answer.namespace, pod: answer.name, outcome: answer.outcome, detail: answer.detail }, 'admission');
      } else if (log?.isLevelEnabled('debug')) {
        log.debug({ uid: answer.uid, namespace: answer.namespace, pod: answer.name, outcome: answer.outcome, detail: answer.detail }, 'admission');
      }
    });
  };

  const server = https.createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log?.error({ err: (err as Error).message }, 'webhook handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.on('tlsClientError', (err) => log?.debug({ err: err.message }, 'TLS handshake failed'));
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8443, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  return {
    server,
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    setTls: (m) => server.setSecureContext({ cert: m.cert, key: m.key, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
