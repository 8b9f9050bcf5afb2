import { describe, expect, it } from 'vitest';
import { ArgumentRules } from './index.js';

describe('argument rules', () => {
  const rules = new ArgumentRules([
    { tool: 'run', argument: 'cmd', deny: ['shell'] },
    { tool: '*', argument: '*', deny: ['secrets'], maxLength: 100 },
    { tool: 'read', argument: 'path', deny: ['path-traversal'], denyPatterns: ['^/etc/'] },
  ]);
  const refused = (tool: string, args: Record<string, unknown>) => rules.check(tool, args)?.message;

  it('refuses with the tool, the argument and the rule, never the value', () => {
    expect(refused('run', { cmd: 'ls; rm -rf /' })).toBe('tools/call: argument "cmd" of tool "run" was refused: it contains shell metacharacters');
    expect(refused('run', { cmd: 'echo $(id)' })).toMatch(/shell metacharacters/);
    expect(refused('run', { cmd: 'ls -la' })).toBeUndefined();
    const secret = refused('send', { body: { nested: ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789'] } });
    expect(secret).toMatch(/argument "body" of tool "send" was refused: it contains something that looks like a secret/);
    expect(secret).not.toContain('ghp_');
    expect(refused('send', { body: 'x'.repeat(101) })).toMatch(/longer than 100 characters/);
    expect(refused('read', { path: '../../etc/passwd' })).toMatch(/a "\.\." path segment/);
    expect(refused('read', { path: '/etc/shadow' })).toContain('the pattern /^/etc//');
    expect(refused('read', { path: 'notes/a..b.txt' })).toBeUndefined();
  });

  it('a rule for one tool leaves the others alone', () => {
    expect(refused('other', { cmd: 'a;b' })).toBeUndefined();
  });
});
