import { describe, expect, it } from 'vitest';
import { hostPolicy } from './host.js';

describe('hostPolicy', () => {
  it('a loopback bind accepts its loopback names on any port, nothing else', () => {
    const allowed = hostPolicy('127.0.0.1', []);
    for (const host of ['localhost', 'localhost:8080', '127.0.0.1:9000', '[::1]:8080', '[::1]', 'LOCALHOST:1']) expect(allowed(host), host).toBe(true);
    for (const host of ['evil.example.com', 'evil.example.com:8080', '127.0.0.2', 'localhost.evil.example', '']) expect(allowed(host), host).toBe(false);
    expect(allowed(undefined)).toBe(false);
  });

  it('a bind on one address accepts that address (IPv6 in brackets)', () => {
    expect(hostPolicy('10.1.2.3', [])('10.1.2.3:8080')).toBe(true);
    expect(hostPolicy('fd00::5', [])('[fd00::5]:8080')).toBe(true);
    expect(hostPolicy('::1', [])('[::1]:8080')).toBe(true);
    expect(hostPolicy('10.1.2.3', [])('evil.example.com')).toBe(false);
  });

  it('a wildcard bind accepts any Host unless a list is given', () => {
    expect(hostPolicy('0.0.0.0', [])('github.dev.svc.cluster.local:8080')).toBe(true);
    expect(hostPolicy('::', [])('10.0.0.7:8080')).toBe(true);
    const listed = hostPolicy('0.0.0.0', ['github.dev.svc', 'mcp.example.com:443']);
    expect(listed('github.dev.svc:8080')).toBe(true);
    expect(listed('mcp.example.com:443')).toBe(true);
    expect(listed('mcp.example.com:8443')).toBe(false);
    expect(listed('localhost:8080')).toBe(true);
    expect(listed('evil.example.com')).toBe(false);
  });

  it('--allowed-hosts adds names (host = any port, host:port = that port, bare IPv6, * = any)', () => {
    const allowed = hostPolicy('127.0.0.1', ['MCP.example.com', 'other.example:8443', 'fd00::1']);
    expect(allowed('mcp.example.com:443')).toBe(true);
    expect(allowed('other.example:8443')).toBe(true);
    expect(allowed('other.example:8444')).toBe(false);
    expect(allowed('[fd00::1]:80')).toBe(true);
    expect(hostPolicy('127.0.0.1', ['*'])('evil.example.com')).toBe(true);
    expect(hostPolicy('127.0.0.1', ['*'])(undefined)).toBe(true);
  });
});
