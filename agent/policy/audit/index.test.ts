import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Auditor, redact } from './index.js';

describe('redact', () => {
  it('replaces values of listed names at any depth, case-insensitively, without changing the input', () => {
    const args = { user: 'bob', Password: 'x', deep: [{ token: 't', ok: 1 }], api: { API_KEY: 'k' } };
    const out = redact(args, new Set(['password', 'token', 'api_key']));
    expect(out).toEqual({ user: 'bob', Password: '[REDACTED]', deep: [{ token: '[REDACTED]', ok: 1 }], api: { API_KEY: '[REDACTED]' } });
    expect(args.Password).toBe('x');
  });
});

describe('Auditor', () => {
  const sink = () => {
    const lines: Record<string, unknown>[] = [];
    return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) };
  };
  const principal = { key: 'i|s', sub: 's', iss: 'i', claims: { secret_claim: 'v' }, scopes: [] };

  it('one line per decision; arguments only when asked for', () => {
    const s = sink();
    new Auditor(s.logger, {}).record({ principal, method: 'tools/call', target: 't', decision: 'allow', policies: ['p0'], latencyUs: 12.345, arguments: { a: 1 } });
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({ audit: true, component: 'audit', sub: 's', iss: 'i', method: 'tools/call', target: 't', decision: 'allow', policies: ['p0'], latency_us: 12.3 });
    expect(s.lines[0]!.arguments).toBeUndefined();
    expect(JSON.stringify(s.lines)).not.toContain('secret_claim');
    new Auditor(s.logger, { includeArguments: true, redactArguments: ['pin'] }).record({ principal, method: 'tools/call', decision: 'deny', arguments: { pin: 1234, n: 1 } });
    expect(s.lines[1]!.arguments).toEqual({ pin: '[REDACTED]', n: 1 });
  });

  it('disabled: nothing logged', () => {
    const s = sink();
    new Auditor(s.logger, { enabled: false }).record({ principal, method: 'x', decision: 'deny' });
    expect(s.lines).toHaveLength(0);
  });
});
