import { describe, expect, it } from 'vitest';
import type { ApprovalOutcome } from '../core/approval.js';
import { Approvals } from './approval.js';
import { RecordingChannel, sessionOf } from './testing.js';

const session = () => sessionOf('alice', { elicitation: {} });
const call = { jsonrpc: '2.0' as const, id: 7, method: 'tools/call', params: { name: 'rm', arguments: { path: '/x' } } };
const ask = { tool: 'rm', reason: 'the server marks it as destructive', timeoutMs: 60_000, arguments: { path: '/x' } };

describe('Approvals', () => {
  it('asks with an unguessable id and forwards only on an accept with approve: true', () => {
    const outcomes: ApprovalOutcome[] = [];
    const a = new Approvals((_s, _a, o) => outcomes.push(o));
    const s = session();
    const ch = new RecordingChannel();
    let forwarded = 0;
    a.hold(s, call, ch, ask, () => forwarded++);
    const q = ch.relatedFrames[0]!;
    expect(q.method).toBe('elicitation/create');
    expect(q.id).toMatch(/^ome-approval-[0-9a-f-]{36}$/);
    expect(q.params.requestedSchema.required).toEqual(['approve']);
    // A guessed id, or the right id from another session, settles nothing.
    expect(a.answer(s, { jsonrpc: '2.0', id: 'ome-approval-1', result: { action: 'accept', content: { approve: true } } })).toBe(true);
    expect(a.answer(session(), { jsonrpc: '2.0', id: q.id, result: { action: 'accept', content: { approve: true } } })).toBe(true);
    expect(forwarded).toBe(0);
    expect(a.answer(s, { jsonrpc: '2.0', id: 5, result: {} })).toBe(false); // a reply to a server request: not ours
    a.answer(s, { jsonrpc: '2.0', id: q.id, result: { action: 'accept', content: { approve: true } } });
    expect(forwarded).toBe(1);
    expect(outcomes).toEqual(['accept']);
    expect(a.pending).toBe(0);
  });

  it('a cancelled call or an ended session ends the held call unanswered; an error answer is a cancel', () => {
    const outcomes: ApprovalOutcome[] = [];
    const a = new Approvals((_s, _a, o) => outcomes.push(o));
    const s = session();
    const one = new RecordingChannel();
    a.hold(s, call, one, ask, () => {});
    expect(a.cancel(s, 8)).toBe(false);
    expect(a.cancel(s, 7)).toBe(true);
    expect(one.abandoned).toBe(1);
    const two = new RecordingChannel();
    a.hold(s, { ...call, id: 9 }, two, ask, () => {});
    a.drop(s);
    expect(two.abandoned).toBe(1);
    const three = new RecordingChannel();
    a.hold(s, { ...call, id: 10 }, three, ask, () => {});
    a.answer(s, { jsonrpc: '2.0', id: three.relatedFrames[0]!.id, error: { code: -32601, message: 'no' } });
    expect(three.responses[0]!.result).toMatchObject({ isError: true });
    expect(outcomes).toEqual(['abandoned', 'abandoned', 'cancel']);
  });
});
