// Smoke test of the real-cluster harness (test/k8s/cluster.ts, started once by
// global-setup.ts): the API answers, controllers turn a Deployment into Pods
// (Running and Ready when kwok is built), service-account tokens carry our
// issuer, and the API server survives a restart with its data.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { restartSharedApiServer } from './cluster.js';

const info = inject('k8s');
const kc = new k8s.KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const namespace = `smoke-${Date.now().toString(36)}`;

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('k8s test harness', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('serves the API on loopback with the admin kubeconfig', async () => {
    expect(new URL(info.server).hostname).toBe('127.0.0.1');
    expect(process.env.KUBECONFIG).toBe(inject('kubeconfig'));
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', namespace]));
  });

  it('issues service-account tokens for https://kubernetes.default.svc', async () => {
    const sa = await eventually('default ServiceAccount', async () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
    expect(sa.metadata?.name).toBe('default');
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: { spec: { audiences: ['ome-mcp-test'], expirationSeconds: 600 } },
    });
    const token = tr.status?.token ?? '';
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss: string; sub: string; aud: string[] };
    expect(claims.iss).toBe(info.serviceAccountIssuer);
    expect(claims.iss).toBe('https://kubernetes.default.svc');
    expect(claims.sub).toBe(`system:serviceaccount:${namespace}:default`);
    expect(claims.aud).toEqual(['ome-mcp-test']);
  });

  it('runs a Deployment: ReplicaSet, Pods, and (with kwok) Running and Ready', async () => {
    const labels = { app: 'smoke' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'smoke', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            // Never pulled: there is no kubelet, kwok only plays the pod lifecycle.
            spec: { containers: [{ name: 'mcp', image: 'registry.k8s.io/pause:3.10' }] },
          },
        },
      },
    });
    const pods = await eventually('2 pods of the Deployment', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=smoke' });
      return list.items.length === 2 ? list.items : undefined;
    });
    expect(pods.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);

    if (info.nodes.length === 0) {
      console.warn('kwok not built: pods stay Pending; skipping the Running/Ready check');
      return;
    }
    const ready = await eventually('pods Running and Ready', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=smoke' });
      const ok = list.items.filter(
        (p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ok.length === 2 ? ok : undefined;
    });
    expect(ready.every((p) => info.nodes.includes(p.spec?.nodeName ?? ''))).toBe(true);
    const dep = await eventually('Deployment readyReplicas=2', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'smoke', namespace });
      return d.status?.readyReplicas === 2 ? d : undefined;
    });
    expect(dep.status?.availableReplicas).toBe(2);
  });

  it('survives a kube-apiserver restart with its data (same etcd)', async () => {
    const started = Date.now();
    await restartSharedApiServer(info, { downMs: 500 });
    console.log(`kube-apiserver restart took ${Date.now() - started} ms`);
    const ns = await core.readNamespace({ name: namespace });
    expect(ns.metadata?.name).toBe(namespace);
    const d = await apps.readNamespacedDeployment({ name: 'smoke', namespace });
    expect(d.spec?.replicas).toBe(2);
  });
});
