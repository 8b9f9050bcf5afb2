import { describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { ensureStateKey, ROTATE_AFTER_MS } from './state-key.js';

/** Just the three calls ensureStateKey makes, over an in-memory Secret. */
function fakeClient() {
  let stored: V1Secret | undefined;
  const writes: string[] = [];
  const client = {
    getOrUndefined: async () => (stored ? structuredClone(stored) : undefined),
    create: async (s: V1Secret) => (writes.push('create'), (stored = { ...s, metadata: { ...s.metadata, resourceVersion: '1' } })),
    replace: async (s: V1Secret) => (writes.push('replace'), (stored = s)),
  } as unknown as KubeClient;
  return { client, writes, stored: () => stored };
}
const ref = { kind: 'MCPServer' as const, name: 'fs', namespace: 'ns' };
const owner = { kind: 'MCPServer', name: 'fs', uid: 'u1' };

describe('the shared state key', () => {
  it('is made once, owned by the server, and kept while young', async () => {
    const f = fakeClient();
    const t0 = new Date('2026-12-01T00:00:00Z');
    const first = await ensureStateKey(f.client, ref, owner, t0);
    expect(first).toEqual({ secretName: 'mcp-fs-state', rotatedAt: t0.toISOString(), hasPrevious: false });
    expect(f.stored()!.metadata!.ownerReferences![0]).toMatchObject({ kind: 'MCPServer', uid: 'u1' });
    const key = f.stored()!.data!.key;
    expect(Buffer.from(key!, 'base64').toString().length).toBeGreaterThanOrEqual(40);
    expect(await ensureStateKey(f.client, ref, owner, new Date(t0.getTime() + 1000))).toEqual(first);
    expect(f.writes).toEqual(['create']);
  });
  it('rotates when old: a new key, the old one kept as previous', async () => {
    const f = fakeClient();
    const t0 = new Date('2026-01-01T00:00:00Z');
    await ensureStateKey(f.client, ref, owner, t0);
    const old = f.stored()!.data!.key;
    const later = new Date(t0.getTime() + ROTATE_AFTER_MS + 1);
    const r = await ensureStateKey(f.client, ref, owner, later);
    expect(r).toEqual({ secretName: 'mcp-fs-state', rotatedAt: later.toISOString(), hasPrevious: true });
    expect(f.stored()!.data!.previous).toBe(old);
    expect(f.stored()!.data!.key).not.toBe(old);
    expect(f.writes).toEqual(['create', 'replace']);
  });
});
