import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { installPair, mintLocalhost } from './testing/serving-certs.js';
import { readTlsMaterial, servingTls, TlsConfigError, type ServingTls } from './tls.js';

/** The certificate a new TLS connection to the port is served (fingerprint). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('readTlsMaterial', () => {
  it('refuses a key that does not fit the certificate, naming the key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    const [a, b] = await Promise.all([mintLocalhost(), mintLocalhost()]);
    const files = installPair(dir, { cert: a.cert, key: b.key });
    expect(() => readTlsMaterial(files)).toThrow(TlsConfigError);
    expect(() => readTlsMaterial(files)).toThrow(/tls\.key is not the PEM private key of the certificate/);
  });

  it('names a missing file, and a file that holds no certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    expect(() => readTlsMaterial({ certFile: join(dir, 'nope.crt'), keyFile: join(dir, 'nope.key') })).toThrow(/cannot read the TLS certificate .*nope\.crt/);
    const files = installPair(dir, { cert: 'not a certificate', key: (await mintLocalhost()).key });
    expect(() => readTlsMaterial(files)).toThrow(/tls\.crt holds no PEM certificate/);
    const good = await mintLocalhost();
    writeFileSync(join(dir, 'ca.crt'), '');
    expect(() => readTlsMaterial({ ...installPair(dir, good), clientCAFile: join(dir, 'ca.crt') })).toThrow(/ca\.crt holds no PEM certificate/);
  });
});

describe('servingTls', () => {
  let tls: ServingTls | undefined;
  let close: (() => void) | undefined;
  afterEach(() => {
    tls?.close();
    close?.();
  });

  async function serve(files: { certFile: string; keyFile: string }, registry: Registry): Promise<number> {
    tls = servingTls(files, pino({ level: 'silent' }), registry, 50);
    const server = tls.createServer({}, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    return (server.address() as AddressInfo).port;
  }

  it('serves a replaced certificate to new connections without a restart; a broken pair keeps the old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    const [first, second, third] = await Promise.all([mintLocalhost(), mintLocalhost(), mintLocalhost()]);
    const registry = new Registry();
    const port = await serve(installPair(dir, first), registry);
    expect(await servedFingerprint(port)).toBe(fingerprintOf(first.cert));

    installPair(dir, second);
    await eventually(async () => (await servedFingerprint(port)) === fingerprintOf(second.cert));
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/ome_mcp_agent_tls_reloads_total\{result="applied"\} 1/);
    expect(metrics).toContain(`ome_mcp_agent_tls_certificate_expiry_timestamp_seconds ${new Date(new X509Certificate(second.cert).validTo).getTime() / 1000}`);

    installPair(dir, { cert: third.cert, key: first.key }); // a certificate with the wrong key
    await eventually(async () => /ome_mcp_agent_tls_reloads_total\{result="failed"\} [1-9]/.test(await registry.metrics()));
    expect(await servedFingerprint(port)).toBe(fingerprintOf(second.cert));

    installPair(dir, third); // and fixed again
    await eventually(async () => (await servedFingerprint(port)) === fingerprintOf(third.cert));
  });
});
