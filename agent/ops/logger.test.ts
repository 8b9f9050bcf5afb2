import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { batched } from './logger.js';

const LOGGER = fileURLToPath(new URL('./logger.ts', import.meta.url));

/** What a process that logs one line and exits writes to stderr, pretty or not. */
async function stderrOf(pretty: boolean): Promise<string> {
  const script = `import { createLogger } from ${JSON.stringify(LOGGER)}; createLogger('info', ${pretty}).info({ session: 's1' }, 'hello there');`;
  const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, NO_COLOR: '1' } });
  return stderr;
}

describe('createLogger', () => {
  it('writes JSON lines, batched, all of them by the time the process exits', async () => {
    const line = JSON.parse((await stderrOf(false)).trim());
    expect(line).toMatchObject({ level: 30, name: 'ome-mcp-agent', session: 's1', msg: 'hello there' });
  });

  it('writes pretty lines for a person at a terminal (pino-pretty in this thread, no transport)', async () => {
    const text = await stderrOf(true);
    expect(text).toContain('INFO');
    expect(text).toContain('hello there');
    expect(text).toContain('session: "s1"');
    expect(() => JSON.parse(text.trim())).toThrow();
  });
});

describe('batched', () => {
  afterEach(() => vi.useRealTimers());

  it('flushes once, a batch interval after the first waiting line, and never while idle', () => {
    vi.useFakeTimers();
    const written: string[] = [];
    let flushes = 0;
    const stream = batched({ write: (l: string) => written.push(l), flush: () => flushes++ }, 100);
    vi.advanceTimersByTime(1000);
    expect(flushes).toBe(0);
    stream.write('a\n');
    vi.advanceTimersByTime(50);
    stream.write('b\n');
    expect(flushes).toBe(0);
    vi.advanceTimersByTime(50);
    expect(flushes).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(flushes).toBe(1);
    stream.write('c\n');
    vi.advanceTimersByTime(100);
    expect(flushes).toBe(2);
    expect(written).toEqual(['a\n', 'b\n', 'c\n']);
  });
});
