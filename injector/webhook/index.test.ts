import 'reflect-metadata';
import https from 'node:https';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch, type JsonPatchOp } from '../mutation/index.js';
import { buildWebhookConfiguration, NAMESPACE_WEBHOOK_NAME, POD_WEBHOOK_NAME } from './config.js';
import { startWebhookServer, type WebhookServer } from './server.js';
import { generateTls, isUsable, serviceDnsNames, type TlsMaterial } from './tls.js';

const settings = { agentImage: 'agent:test' };

function review(object: unknown, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'ns',
      object,
      ...extra,
    },
  };
}

const mcpPod = (annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'srv-', namespace: 'ns', annotations },
  spec: { containers: [{ name: 'mcp', image: 'srv', command: ['node', 'server.js'] }] },
});

let tls: TlsMaterial;
let hook: WebhookServer;
const agent = new https.Agent({ keepAlive: true });

function post(path: string, body: string | object, method = 'POST'): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = https.request(
      { host: '127.0.0.1', port: hook.port, path, method, ca: tls.ca, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

beforeAll(async () => {
  tls = await generateTls({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  hook = await startWebhookServer({ tls, settings, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  agent.destroy();
  await hook.close();
});

describe('webhook server', () => {
  it('injects an annotated pod and returns a base64 JSONPatch', async () => {
    const pod = mcpPod({ 'mcp.ome.io/inject': 'true' });
    const res = await post('/inject/pod', review(pod));
    expect(res.status).toBe(200);
    expect(res.json.apiVersion).toBe('admission.k8s.io/v1');
    expect(res.json.response.uid).toBe('u-1');
    expect(res.json.response.allowed).toBe(true);
    expect(res.json.response.patchType).toBe('JSONPatch');
    const ops = JSON.parse(Buffer.from(res.json.response.patch, 'base64').toString()) as JsonPatchOp[];
    const patched = applyPatch(pod, ops) as any;
    expect(patched.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(['mcp-agent-init', 'mcp-agent']);
    // Re-admission of the injected pod: allowed, no patch.
    const again = await post('/inject/pod', review(patched));
    expect(again.json.response).toEqual({ uid: 'u-1', allowed: true });
  });

  it('leaves pods without opt-in alone', async () => {
    const res = await post('/inject/pod', review(mcpPod()));
    expect(res.json.response).toEqual({ uid: 'u-1', allowed: true });
  });

  it('namespace path injects MCP pods without the annotation', async () => {
    const res = await post('/inject/namespace', review(mcpPod()));
    expect(res.json.response.patchType).toBe('JSONPatch');
  });

  it('denies invalid annotations with a clear message, and passes warnings', async () => {
    const res = await post('/inject/pod', review(mcpPod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/port': 'x' })));
    expect(res.status).toBe(200);
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.message).toMatch(/mcp\.ome\.io\/port must be a port number/);
    const attach = await post('/inject/pod', review({ metadata: { annotations: { 'mcp.ome.io/inject': 'true' } }, spec: { containers: [{ name: 'mcp', image: 'x' }] } }));
    expect(attach.json.response.warnings[0]).toMatch(/attach/);
  });

  it('answers malformed reviews with 400 and a message, and keeps serving', async () => {
    const cases: Array<[string | object, RegExp]> = [
      ['{not json', /not JSON/],
      ['[]', /not a JSON object/],
      [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, /admission\.k8s\.io\/v1/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'Pod' }, /kind must be AdmissionReview/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: {} } }, /uid/],
      [review(null), /request\.object/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/inject/pod', body);
      expect(res.status, String(body)).toBe(400);
      expect(res.text).toMatch(message);
    }
    expect((await post('/inject/pod', review(mcpPod()))).status).toBe(200);
  });

  it('ignores other kinds and operations, rejects other paths and methods', async () => {
    const res = await post('/inject/pod', review({}, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }));
    expect(res.json.response).toEqual({ uid: 'u-1', allowed: true });
    const del = await post('/inject/pod', review(mcpPod({ 'mcp.ome.io/inject': 'true' }), { operation: 'UPDATE' }));
    expect(del.json.response).toEqual({ uid: 'u-1', allowed: true });
    expect((await post('/other', {})).status).toBe(404);
    expect((await post('/inject/pod', '', 'GET')).status).toBe(405);
    expect((await post('/healthz', '', 'GET')).text).toBe('ok\n');
  });

  it('refuses oversized bodies with 413', async () => {
    const small = await startWebhookServer({ tls, settings, host: '127.0.0.1', port: 0, maxBodyBytes: 1024 });
    try {
      const res = await new Promise<number>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: small.port, path: '/inject/pod', method: 'POST', ca: tls.ca }, (r) => {
          r.resume();
          resolve(r.statusCode!);
        });
        req.on('error', reject);
        req.end('x'.repeat(4096));
      });
      expect(res).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('rotates the serving certificate without a restart', async () => {
    const next = await generateTls({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    hook.setTls(next);
    const fresh = new https.Agent({ keepAlive: false });
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: hook.port, path: '/healthz', ca: next.ca, agent: fresh }, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    hook.setTls(tls);
  });
});

describe('tls', () => {
  it('generates a CA and a serving certificate for the Service names', async () => {
    const names = serviceDnsNames('ome-mcp-injector', 'ome-mcp-system');
    const m = await generateTls({ dnsNames: names, validityDays: 90 });
    const cert = new x509.X509Certificate(m.cert);
    const ca = new x509.X509Certificate(m.ca);
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(cert.issuer).toBe(ca.subject);
    expect(isUsable(m, names)).toBe(true);
    expect(isUsable(m, [...names, 'other'])).toBe(false);
    expect(isUsable(m, names, 100)).toBe(false);
    expect(isUsable({ ...m, cert: 'garbage' }, names)).toBe(false);
  });
});

describe('webhook configuration', () => {
  it('has one Fail entry for opted-in namespaces and one Ignore entry for annotated pods elsewhere', () => {
    const c = buildWebhookConfiguration({ target: { service: { name: 'ome-mcp-injector', namespace: 'ome-mcp-system' } }, injectorNamespace: 'ome-mcp-system' });
    const [ns, pod] = c.webhooks!;
    expect(ns!.name).toBe(NAMESPACE_WEBHOOK_NAME);
    expect(ns!.failurePolicy).toBe('Fail');
    expect(ns!.clientConfig.service!.path).toBe('/inject/namespace');
    expect(pod!.name).toBe(POD_WEBHOOK_NAME);
    expect(pod!.failurePolicy).toBe('Ignore');
    expect(pod!.namespaceSelector!.matchExpressions![1]!.values).toContain('ome-mcp-system');
    const url = buildWebhookConfiguration({ target: { url: 'https://127.0.0.1:9443/' }, caBundle: 'Q0E=', injectorNamespace: 'x' });
    expect(url.webhooks![1]!.clientConfig).toEqual({ url: 'https://127.0.0.1:9443/inject/pod', caBundle: 'Q0E=' });
  });
});

describe('manifests/injector/mutatingwebhook.yaml', () => {
  it('is what buildWebhookConfiguration produces for the in-cluster Service', async () => {
    const { readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    const text = await readFile(new URL('../../manifests/injector/mutatingwebhook.yaml', import.meta.url), 'utf8');
    const expected = buildWebhookConfiguration({ target: { service: { name: 'ome-mcp-injector', namespace: 'ome-mcp-system' } }, injectorNamespace: 'ome-mcp-system' });
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(expected)));
  });
});
