// The ops endpoints: /healthz, /readyz, /metrics. For local use they share the MCP port; with
// --ops-port they get a plain-HTTP listener of their own (what the kubelet probes and Prometheus
// scrape) and the MCP port answers 404 for them: metrics and health never reach MCP clients, and
// probes keep working whatever TLS or authentication the MCP port asks for.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { answerClientErrors } from '../downstream/client-errors.js';

export interface Readiness {
  ready: boolean;
  /** What /readyz shows: upstream state, sessions, … */
  body: Record<string, unknown>;
}

/** The three routes, as an app of their own (mounted on the MCP app, or served on the ops port). */
export function opsApp(readiness: () => Readiness, registry: Registry): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const r = readiness();
    return c.json(r.body, r.ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  return app;
}

export interface OpsServer {
  port: number;
  close(): void;
}

/** Serves `app` on host:port (plain HTTP); resolves once listening, rejects when the port is taken. */
export async function startOpsServer(app: Hono, host: string, port: number): Promise<OpsServer> {
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on the ops port ${host}:${port}: ${err.message}`)));
  });
  answerClientErrors(server);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close() {
      server.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    },
  };
}
