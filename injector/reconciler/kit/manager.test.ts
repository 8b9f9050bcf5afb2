import { describe, expect, it } from 'vitest';
import { Manager } from './manager.js';
import { References } from './refs.js';
import type { Reconciler, Result } from './types.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

function recorder(kind: string, keys: string[], results: Record<string, () => Result> = {}) {
  const seen: string[] = [];
  let resyncs = 0;
  const r: Reconciler = {
    kind,
    keys: () => keys,
    resync: () => void resyncs++,
    async reconcile(key) {
      seen.push(key);
      return results[key]?.() ?? {};
    },
  };
  return { r, seen, resyncs: () => resyncs };
}

describe('Manager', () => {
  it('routes each key to the reconciler of its kind and enqueues every key at start', async () => {
    const m = new Manager({ workers: 2, resyncMs: 60_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 }, log: silent });
    const a = recorder('A', ['A/ns/one', 'A/ns/two']);
    const b = recorder('B', ['B//three']);
    m.register(a.r);
    m.register(b.r);
    m.run();
    await until(() => a.seen.length === 2 && b.seen.length === 1);
    m.enqueue('B//four');
    await until(() => b.seen.includes('B//four'));
    expect(m.reconciles).toBe(4);
    await m.stop();
  });

  it('retries a requeue result and a thrown error with backoff, and counts errors', async () => {
    const m = new Manager({ workers: 1, resyncMs: 60_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 }, log: silent });
    let n = 0;
    const a = recorder('A', ['A/ns/flaky'], {
      'A/ns/flaky': () => {
        n++;
        if (n === 1) return { requeue: true };
        if (n === 2) throw new Error('transient');
        return {};
      },
    });
    m.register(a.r);
    m.run();
    await until(() => a.seen.length === 3);
    expect(m.errors).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.seen.length).toBe(3); // a success ends the retries
    await m.stop();
  });

  it('looks at a key again after requeueAfterMs, without counting a failure', async () => {
    const m = new Manager({ workers: 1, resyncMs: 60_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 }, log: silent });
    const a = recorder('A', ['A/ns/poll'], { 'A/ns/poll': () => ({ requeueAfterMs: 20 }) });
    m.register(a.r);
    m.run();
    await until(() => a.seen.length >= 3);
    expect(m.errors).toBe(0);
    await m.stop();
  });

  it('calls resync() before re-enqueueing every key on the resync period', async () => {
    const m = new Manager({ workers: 1, resyncMs: 30, backoff: { baseDelayMs: 5, maxDelayMs: 20 }, log: silent });
    const a = recorder('A', ['A/ns/x']);
    m.register(a.r);
    m.run();
    await until(() => a.resyncs() >= 1 && a.seen.length >= 2);
    await m.stop();
  });

  it('refuses a key of an unknown kind', () => {
    const m = new Manager({ workers: 1, resyncMs: 60_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 }, log: silent });
    expect(() => m.reconcile('Nope/ns/x')).toThrow(/no reconciler/);
  });
});

describe('References', () => {
  it('maps an object to the owners that read it, and replaces or forgets an owner’s list', () => {
    const r = new References();
    r.set('A/ns/one', ['ConfigMap/ns/c1', 'ConfigMap/ns/c2']);
    r.set('A/ns/two', ['ConfigMap/ns/c1']);
    expect(r.readersOf('ConfigMap/ns/c1').sort()).toEqual(['A/ns/one', 'A/ns/two']);
    r.set('A/ns/one', ['ConfigMap/ns/c2']);
    expect(r.readersOf('ConfigMap/ns/c1')).toEqual(['A/ns/two']);
    r.set('A/ns/two', []);
    expect(r.readersOf('ConfigMap/ns/c1')).toEqual([]);
    expect(r.readersOf('ConfigMap/ns/c2')).toEqual(['A/ns/one']);
  });
});
