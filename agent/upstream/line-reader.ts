/**
 * Splits a byte stream into newline-delimited frames (MCP's stdio framing). Chunks are
 * decoded as they come; a partial line is carried to the next chunk. A line longer than
 * `maxLineBytes` is dropped (reported through `onOversize`) so one runaway write cannot
 * exhaust memory.
 */
export class LineReader {
  private buffered = '';
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 64 * 1024 * 1024,
    private readonly onOversize: (bytes: number) => void = () => {},
  ) {}

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.append(text);
      return;
    }
    let line = this.buffered + text.slice(0, newline);
    this.buffered = '';
    for (;;) {
      this.emit(line);
      start = newline + 1;
      newline = text.indexOf('\n', start);
      if (newline === -1) break;
      line = text.slice(start, newline);
    }
    if (start < text.length) this.append(text.slice(start));
  }

  private append(text: string): void {
    this.buffered += text;
    if (this.buffered.length > this.maxLineBytes) {
      this.onOversize(this.buffered.length);
      this.buffered = '';
    }
  }

  private emit(line: string): void {
    const end = line.endsWith('\r') ? line.length - 1 : line.length;
    if (end === 0) return;
    this.onLine(end === line.length ? line : line.slice(0, end));
  }
}
