/**
 * Server-Sent Events with resumability (streamable HTTP, 2025-03-26 and later): every event on a
 * session's streams gets an id `<stream>.<seq>` and is kept in a bounded per-session buffer, so a
 * client that lost a connection can GET with `Last-Event-ID` and receive what it missed.
 */

export interface SseWriter {
  write(chunk: string): void;
  close(): void;
}

const encoder = new TextEncoder();

/** An SSE response body whose writer the agent holds; `onCancel` fires when the client goes away. */
export function sseBody(onCancel: () => void): { body: ReadableStream<Uint8Array>; writer: SseWriter } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      onCancel();
    },
  });
  const writer: SseWriter = {
    write(chunk) {
      if (open) controller.enqueue(encoder.encode(chunk));
    },
    close() {
      if (!open) return;
      open = false;
      try {
        controller.close();
      } catch {
        // already closed by the consumer
      }
    },
  };
  return { body, writer };
}

export const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

export function sseEvent(id: string | undefined, data: string, event?: string): string {
  let out = '';
  if (event !== undefined) out += `event: ${event}\n`;
  if (id !== undefined) out += `id: ${id}\n`;
  return `${out}data: ${data}\n\n`;
}

interface BufferedEvent {
  stream: string;
  seq: number;
  chunk: string;
}

/** The per-session ring of recent events, shared by all of the session's streams. */
export class EventLog {
  private readonly events: BufferedEvent[] = [];
  private seq = 0;
  private streams = 0;

  constructor(private readonly capacity: number) {}

  newStreamKey(prefix: string): string {
    return `${prefix}${++this.streams}`;
  }

  /** Records an event and returns its SSE text. */
  record(stream: string, data: string): string {
    const seq = ++this.seq;
    const chunk = sseEvent(`${stream}.${seq}`, data);
    if (this.capacity > 0) {
      if (this.events.length >= this.capacity) this.events.shift();
      this.events.push({ stream, seq, chunk });
    }
    return chunk;
  }

  /** A priming event: an id and empty data, so the client can resume from the very start. */
  prime(stream: string, retryMs: number): string {
    const seq = ++this.seq;
    return `id: ${stream}.${seq}\nretry: ${retryMs}\ndata: \n\n`;
  }

  /** Events after `lastEventId` on the same stream; undefined when the id is not ours. */
  replayAfter(lastEventId: string): { stream: string; chunks: string[] } | undefined {
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const stream = lastEventId.slice(0, dot);
    const after = Number(lastEventId.slice(dot + 1));
    if (!Number.isInteger(after)) return undefined;
    const chunks: string[] = [];
    for (const e of this.events) if (e.stream === stream && e.seq > after) chunks.push(e.chunk);
    return { stream, chunks };
  }
}

/**
 * One logical SSE stream (a POST's response stream, or the session's GET stream). It outlives
 * its HTTP connection: events sent while disconnected are buffered in the EventLog and a new
 * connection can take over with `Last-Event-ID`.
 */
export class ResumableStream {
  private writer: SseWriter | undefined;
  ended = false;

  constructor(
    readonly key: string,
    private readonly log: EventLog,
  ) {}

  attach(writer: SseWriter, replay: string[] = []): void {
    this.writer?.close();
    this.writer = writer;
    for (const chunk of replay) writer.write(chunk);
    if (this.ended) writer.close();
  }

  detach(writer: SseWriter): void {
    if (this.writer === writer) this.writer = undefined;
  }

  get connected(): boolean {
    return this.writer !== undefined;
  }

  send(frame: string): void {
    const chunk = this.log.record(this.key, frame);
    this.writer?.write(chunk);
  }

  /** Writes without recording (comments, priming). */
  raw(chunk: string): void {
    this.writer?.write(chunk);
  }

  end(): void {
    this.ended = true;
    this.writer?.close();
    this.writer = undefined;
  }
}
