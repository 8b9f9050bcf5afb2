import { describe, expect, it } from 'vitest';
import { MAX_RESUME_AGE_MS, SessionSealer, type SessionState } from './session-seal.js';

const state: SessionState = { version: '2025-06-18', principal: 'iss|alice', capabilities: { sampling: {}, roots: { listChanged: true }, experimental: { big: 'x'.repeat(5000) } }, clientInfo: { name: 'c', version: '1' }, issuedAt: Date.now() };

describe('SessionSealer', () => {
  it('round-trips what routing needs (capability presence, not their contents), in a short id', () => {
    const s = new SessionSealer(['k1']);
    const id = s.seal(state);
    expect(id.length).toBeLessThan(300);
    expect(s.unseal(id)).toEqual({ ...state, capabilities: { sampling: {}, roots: { listChanged: true }, experimental: {} } });
  });
  it('after a rotation the previous key still opens old ids; new ids use the new key', () => {
    const before = new SessionSealer(['old']).seal(state);
    const rotated = new SessionSealer(['new', 'old']);
    expect(rotated.unseal(before)?.principal).toBe('iss|alice');
    expect(new SessionSealer(['old']).unseal(rotated.seal(state))).toBeUndefined();
  });
  it('refuses other keys, tampering, garbage and ids past the resume age', () => {
    const s = new SessionSealer(['k1']);
    const id = s.seal(state);
    expect(new SessionSealer(['k2']).unseal(id)).toBeUndefined();
    expect(s.unseal(id.slice(0, -2) + (id.endsWith('A') ? 'BB' : 'AA'))).toBeUndefined();
    for (const junk of ['', 's1.', 's1.!!!', 'random-uuid', `s1.${'A'.repeat(5000)}`]) expect(s.unseal(junk)).toBeUndefined();
    expect(s.unseal(id, state.issuedAt + MAX_RESUME_AGE_MS + 1)).toBeUndefined();
  });
});
