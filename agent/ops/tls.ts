// HTTPS for the agent's MCP port: the server's TLS options from the certificate files, and a new
// certificate served without a restart when the files change. With a client CA the server asks
// for a client certificate; authentication reads what the socket verified (authn/credentials.ts).
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from 'node:https';
import type { RequestListener } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from './prom.js';
import type { AgentTls } from '../../api/agent-config.js';
import { checkServingPair, ServingPairError } from '../../api/tls.js';
import { watchFiles } from './file-watch.js';

/** The certificate files cannot be served: unreadable, not PEM, or a key that does not fit. */
export class TlsConfigError extends Error {}

interface Material {
  context: SecureContextOptions;
  /** Of all three files: a reload that changes nothing is not one. */
  fingerprint: string;
  subject: string;
  notAfter: Date;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Reads and checks the files: a certificate, its key, the client CA (api/tls.ts). */
export function readTlsMaterial(files: AgentTls): Material {
  const cert = readPem('certificate', files.certFile);
  const key = readPem('key', files.keyFile);
  const ca = files.clientCAFile ? readPem('client CA', files.clientCAFile) : undefined;
  const context = { cert, key, ...(ca ? { ca } : {}) };
  let leaf: X509Certificate;
  try {
    leaf = checkServingPair(context);
  } catch (err) {
    if (!(err instanceof ServingPairError)) throw err;
    const file = { cert: files.certFile, key: files.keyFile, ca: files.clientCAFile }[err.part];
    throw new TlsConfigError(`TLS ${file} ${err.message}`);
  }
  const fingerprint = createHash('sha256').update(cert).update('\0').update(key).update('\0').update(ca ?? '').digest('hex');
  return { context, fingerprint, subject: leaf.subject.replace(/\n/g, ', '), notAfter: new Date(leaf.validTo) };
}

export interface ServingTls {
  /** node:https's createServer with the current certificate; that server is re-keyed when the files change. */
  createServer(options: ServerOptions, listener: RequestListener): HttpsServer;
  /** Stops watching the files. */
  close(): void;
}

/**
 * Loads the certificate (throws TlsConfigError when it cannot be served) and watches the files
 * (a mounted Secret too: file-watch.ts). A changed set is checked first; a broken one keeps the
 * certificate being served and logs an error. Each reload is a log line and a metric.
 */
export function servingTls(files: AgentTls, logger: Logger, registry: Registry, debounceMs = 200): ServingTls {
  const reloads = new Counter({
    name: 'ome_mcp_agent_tls_reloads_total',
    help: 'Changes of the TLS files seen, by result: applied (the new certificate is served), unchanged, failed (unusable files; the previous certificate stays)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const expiry = new Gauge({ name: 'ome_mcp_agent_tls_certificate_expiry_timestamp_seconds', help: 'When the served certificate expires (Unix time)', registers: [registry] });
  let current = readTlsMaterial(files);
  expiry.set(current.notAfter.getTime() / 1000);
  logger.info({ subject: current.subject, notAfter: current.notAfter.toISOString() }, 'serving HTTPS');
  let server: HttpsServer | undefined;

  const reload = () => {
    let next: Material;
    try {
      next = readTlsMaterial(files);
    } catch (err) {
      reloads.labels('failed').inc();
      logger.error({ err: (err as Error).message }, 'TLS certificate reload failed; keeping the certificate being served');
      return;
    }
    if (next.fingerprint === current.fingerprint) {
      reloads.labels('unchanged').inc();
      return;
    }
    server?.setSecureContext(next.context);
    current = next;
    expiry.set(next.notAfter.getTime() / 1000);
    reloads.labels('applied').inc();
    logger.info({ subject: next.subject, notAfter: next.notAfter.toISOString() }, 'TLS certificate reloaded');
  };

  // A Secret update or a cert-then-key copy is several events: read once they are over.
  const watch = watchFiles([files.certFile, files.keyFile, ...(files.clientCAFile ? [files.clientCAFile] : [])], reload, {
    logger,
    what: 'TLS certificate',
    debounceMs,
  });

  return {
    createServer(options, listener) {
      server = createHttpsServer(
        {
          ...options,
          ...current.context,
          minVersion: 'TLSv1.2',
          // Ask for a client certificate, never insist: authentication reads `authorized`.
          requestCert: files.clientCAFile !== undefined,
          rejectUnauthorized: false,
        },
        listener,
      );
      server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
      return server;
    },
    close: () => watch.close(),
  };
}
