import { describe, expect, it } from 'vitest';
import { EventLog, ResumableStream, sseEvent, type SseWriter } from './sse.js';

class Collect implements SseWriter {
  chunks: string[] = [];
  closed = false;
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  close(): void {
    this.closed = true;
  }
}

describe('sseEvent', () => {
  it('writes event, id and data lines', () => {
    expect(sseEvent('g1.3', '{"a":1}', 'message')).toBe('event: message\nid: g1.3\ndata: {"a":1}\n\n');
    expect(sseEvent(undefined, 'x')).toBe('data: x\n\n');
  });
});

describe('EventLog', () => {
  it('numbers events across the streams of a session and replays what followed an id, on that stream only', () => {
    const log = new EventLog(10);
    const [g, p] = [log.newStreamKey('g'), log.newStreamKey('p')];
    expect([g, p]).toEqual(['g1', 'p2']);
    log.record(g, 'a');
    log.record(p, 'b');
    log.record(g, 'c');
    expect(log.replayAfter('g1.1')).toEqual({ stream: 'g1', chunks: ['id: g1.3\ndata: c\n\n'] });
    expect(log.replayAfter('p2.0')!.chunks).toEqual(['id: p2.2\ndata: b\n\n']);
    expect(log.replayAfter('nonsense')).toBeUndefined();
    expect(log.replayAfter('g1.x')).toBeUndefined();
  });

  it('keeps at most its capacity, oldest dropped first', () => {
    const log = new EventLog(2);
    for (const d of ['1', '2', '3']) log.record('g1', d);
    expect(log.replayAfter('g1.0')!.chunks).toEqual(['id: g1.2\ndata: 2\n\n', 'id: g1.3\ndata: 3\n\n']);
    expect(log.prime('g1', 500)).toBe('id: g1.4\nretry: 500\ndata: \n\n');
  });
});

describe('ResumableStream', () => {
  it('buffers while disconnected and hands a new connection the replay; ending closes the writer', () => {
    const log = new EventLog(10);
    const stream = new ResumableStream('g1', log);
    const first = new Collect();
    stream.attach(first);
    stream.send('one');
    stream.detach(first);
    expect(stream.connected).toBe(false);
    stream.send('two'); // nobody listening: only the log has it
    const second = new Collect();
    stream.attach(second, log.replayAfter('g1.1')!.chunks);
    expect(first.chunks).toEqual(['id: g1.1\ndata: one\n\n']);
    expect(second.chunks).toEqual(['id: g1.2\ndata: two\n\n']);
    stream.raw(': keepalive\n\n');
    stream.end();
    expect(second.closed).toBe(true);
    const late = new Collect();
    stream.attach(late);
    expect(late.closed).toBe(true);
  });

  it('closes the previous writer when another connection takes over', () => {
    const stream = new ResumableStream('g1', new EventLog(0));
    const [a, b] = [new Collect(), new Collect()];
    stream.attach(a);
    stream.attach(b);
    expect(a.closed).toBe(true);
    stream.detach(a); // a stale detach does not drop the new writer
    expect(stream.connected).toBe(true);
  });
});
