import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('deduplicates queued keys', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands out a key twice at once; a re-add during processing runs again after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(k!);
    expect(q.length).toBe(1);
  });

  it('serves high-priority keys first and promotes a queued low one', async () => {
    const q = new WorkQueue();
    q.add('status-1', 'low');
    q.add('status-2', 'low');
    q.add('new-1');
    q.add('status-2', 'high');
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['new-1', 'status-2', 'status-1']);
  });

  it('backs off exponentially up to the cap and forgets on success', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map(() => q.addRateLimited('a'))).toEqual([100, 200, 400, 800, 1000]);
    q.forget('a');
    expect(q.failureCount('a')).toBe(0);
    q.shutDown();
  });

  it('delivers delayed adds and wakes waiting workers; shutDown releases them', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.addAfter('x', 10);
    expect(await waiting).toBe('x');
    const w2 = q.get();
    q.shutDown();
    expect(await w2).toBeUndefined();
  });
});
