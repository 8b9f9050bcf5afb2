// A small API client for the reconciler's writes and reads: server-side apply, merge patches on
// the status subresource, deletes and lists, over one keep-alive HTTPS agent. (The generated
// clients of @kubernetes/client-node create a new connection pool per call and have no
// apply-patch support for subresources; the informers still come from @kubernetes/client-node.)
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CATALOG_KINDS } from '../../api/v1beta1/catalog.js';
import { MCPGATEWAY_KIND, MCPGATEWAY_PLURAL } from '../../api/v1beta1/mcpgateway.js';
import { GATEWAY_API_GROUP, GATEWAY_API_KINDS } from '../../api/gateway-api.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;
/** A 4xx the same request will get again (invalid object, forbidden): not worth a fast retry. */
export const isPermanent = (e: unknown) => e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429 && e.status !== 408;

interface KindInfo {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const KINDS: Record<string, KindInfo> = {
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  Event: { group: '', version: 'v1', plural: 'events', namespaced: true },
  Pod: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  EndpointSlice: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
  Ingress: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
  // The Gateway API: served only where its CRDs are installed (kit/discovery.ts tells).
  ...Object.fromEntries(Object.entries(GATEWAY_API_KINDS).map(([kind, k]) => [kind, { group: GATEWAY_API_GROUP, ...k, namespaced: true }])),
  PodDisruptionBudget: { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  MCPServer: { group: 'ome.io', version: 'v1beta1', plural: 'mcpservers', namespaced: true },
  ClusterMCPServer: { group: 'ome.io', version: 'v1beta1', plural: 'clustermcpservers', namespaced: false },
  [MCPGATEWAY_KIND]: { group: 'ome.io', version: 'v1beta1', plural: MCPGATEWAY_PLURAL, namespaced: true },
  ...Object.fromEntries(Object.entries(CATALOG_KINDS).map(([kind, k]) => [kind, { group: 'ome.io', version: 'v1beta1', plural: k.plural, namespaced: true }])),
};

/** The group/version path of a kind's API: `/apis/apps/v1`, `/api/v1`. */
export function groupVersionPath(kind: string): string {
  const k = KINDS[kind];
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
}

/** The plural resource name of a kind (`ingresses`). */
export const pluralOf = (kind: string): string => {
  const k = KINDS[kind];
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k.plural;
};

/** Collection path: `/apis/apps/v1/namespaces/ns/deployments` (no namespace: all namespaces / cluster). */
export function collectionPath(kind: string, namespace?: string): string {
  const k = KINDS[kind];
  if (!k) throw new Error(`unknown kind ${kind}`);
  const root = groupVersionPath(kind);
  return k.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${root}/${k.plural}`;
}

export function objectPath(kind: string, name: string, namespace?: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

export class KubeClient {
  private agent: https.Agent | http.Agent | undefined;
  private base: URL;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  private tls: https.AgentOptions = {};
  private closed = false;
  /** Requests sent and their summed latency, for the bench. */
  requests = 0;
  latencyMs = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: { maxSockets?: number } = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.base = new URL(cluster.server);
  }

  /** Refreshes credentials (token files rotate) at most every 30 s. */
  private async prepare(): Promise<void> {
    if (this.agent && Date.now() - this.headersAt < 30_000) return;
    const o: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(o);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (o.auth) headers.authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    this.headers = headers;
    this.headersAt = Date.now();
    if (!this.agent) {
      this.tls = { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername };
      const agentOpts = { keepAlive: true, maxSockets: this.opts.maxSockets ?? 32, ...this.tls };
      this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent({ keepAlive: true, maxSockets: agentOpts.maxSockets });
    }
  }

  close(): void {
    this.closed = true;
    this.agent?.destroy();
    this.agent = undefined;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (this.closed) throw new Error('client closed');
    await this.prepare();
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const data = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const mod = url.protocol === 'https:' ? https : http;
    this.requests++;
    const t0 = performance.now();
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            ...this.headers,
            accept: opts.accept ?? 'application/json',
            ...(data ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': String(data.length) } : {}),
          },
          timeout: opts.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            this.latencyMs += performance.now() - t0;
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON */
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(body as T);
            const st = (typeof body === 'object' && body ? body : {}) as { reason?: string; message?: string };
            reject(new ApiError(status, st.reason ?? String(status), `${method} ${url.pathname}: ${status} ${st.message ?? text.slice(0, 500)}`, body));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timeout`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  get<T extends KubernetesObject>(kind: string, name: string, namespace?: string): Promise<T> {
    return this.request<T>('GET', objectPath(kind, name, namespace));
  }

  async getOrUndefined<T extends KubernetesObject>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(kind, name, namespace);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T extends KubernetesObject>(kind: string, namespace?: string, labelSelector?: string) {
    return this.request<{ items: T[]; metadata: { resourceVersion?: string } }>('GET', collectionPath(kind, namespace), {
      query: { labelSelector },
    });
  }

  /** Server-side apply (`force` takes over conflicting fields, as a controller should). */
  apply<T extends KubernetesObject>(obj: T, fieldManager: string, subresource?: 'status'): Promise<T> {
    const kind = obj.kind!;
    const path = objectPath(kind, obj.metadata!.name!, obj.metadata?.namespace) + (subresource ? `/${subresource}` : '');
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force: true },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  mergePatch<T>(kind: string, name: string, namespace: string | undefined, patch: unknown, subresource?: 'status'): Promise<T> {
    return this.request<T>('PATCH', objectPath(kind, name, namespace) + (subresource ? `/${subresource}` : ''), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  jsonPatch<T>(kind: string, name: string, namespace: string | undefined, ops: unknown[]): Promise<T> {
    return this.request<T>('PATCH', objectPath(kind, name, namespace), { body: ops, contentType: 'application/json-patch+json' });
  }

  async delete(kind: string, name: string, namespace?: string, propagationPolicy: 'Background' | 'Foreground' = 'Background'): Promise<void> {
    try {
      await this.request('DELETE', objectPath(kind, name, namespace), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  create<T extends KubernetesObject>(obj: T, fieldManager?: string): Promise<T> {
    return this.request<T>('POST', collectionPath(obj.kind!, obj.metadata?.namespace), { body: obj, query: { fieldManager } });
  }

  replace<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.request<T>('PUT', objectPath(obj.kind!, obj.metadata!.name!, obj.metadata?.namespace), { body: obj });
  }
}
