// Its own file: it mocks node:crypto for the module under test, which must not leak into others.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async () => {
  const real = await vi.importActual<typeof import('node:crypto')>('node:crypto');
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const { timingSafeEqual } = await import('node:crypto');
const { ApiKeyMethod } = await import('./api-key.js');

const dir = mkdtempSync(join(tmpdir(), 'authn-timing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (k: string) => 'sha256:' + createHash('sha256').update(k).digest('hex');

it('compares API key digests with crypto.timingSafeEqual, every key each time (no early exit)', () => {
  const keysFile = join(dir, 'keys');
  writeFileSync(keysFile, ['k1', 'k2', 'k3'].map((k, i) => `- hash: ${sha(k)}\n  principal: p${i}\n`).join(''));
  const m = new ApiKeyMethod({ logger: pino({ level: 'silent' }), keysFile, watch: false });
  const calls = vi.mocked(timingSafeEqual);
  calls.mockClear();
  expect(m.authenticate({ authorization: undefined, header: () => 'k1', peer: undefined, address: undefined })).toMatchObject({ sub: 'p0' });
  expect(calls).toHaveBeenCalledTimes(3);
  m.authenticate({ authorization: undefined, header: () => 'nope', peer: undefined, address: undefined });
  expect(calls).toHaveBeenCalledTimes(6);
  m.close();
});
