import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../config/options.js';
import { createUpstreamTransport } from './factory.js';

const dir = mkdtempSync(join(tmpdir(), 'ome-headers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HTTP upstream headers from the config file', () => {
  it('reads each value from its file at connect time (a rotated Secret is used from the next connect)', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      req.resume();
      res.writeHead(202).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    const keyFile = join(dir, '0');
    writeFileSync(keyFile, 'first-key\n');
    const config = join(dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ upstream: { transport: 'streamable-http', url, headers: [{ name: 'X-API-Key', file: keyFile, prefix: 'k ' }] } }));
    const options = await parseOptions(['--config', config, '--upstream', url]);
    expect(options.upstreamHeaders).toEqual([{ name: 'X-API-Key', file: keyFile, prefix: 'k ' }]);
    const logger = pino({ level: 'silent' });
    const send = async () => {
      const t = createUpstreamTransport(options, logger);
      await t.start();
      t.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      await new Promise((r) => setTimeout(r, 200));
      await t.close();
    };
    await send();
    const first = seen.length;
    writeFileSync(keyFile, 'rotated-key\n');
    await send();
    // Every request carries the header (POST, the GET stream, the DELETE at close).
    expect(first).toBeGreaterThan(0);
    expect(new Set(seen.slice(0, first))).toEqual(new Set(['k first-key']));
    expect(new Set(seen.slice(first))).toEqual(new Set(['k rotated-key']));
    server.close();
  });

  it('names the header and the file when the value cannot be read', async () => {
    const config = join(dir, 'missing.json');
    writeFileSync(config, JSON.stringify({ upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp', headers: [{ name: 'Authorization', file: join(dir, 'nope') }] } }));
    const options = await parseOptions(['--config', config, '--upstream', 'http://127.0.0.1:1/mcp']);
    expect(() => createUpstreamTransport(options, pino({ level: 'silent' }))).toThrow(/upstream header Authorization: cannot read .*nope/);
  });
});
