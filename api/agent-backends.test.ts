import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from './agent-config.js';

const issues = (config: unknown): string[] => {
  try {
    parseAgentConfig(config);
    return [];
  } catch (e) {
    return (e as { issues: Array<{ path: string; message: string }> }).issues.map((i) => `${i.path}: ${i.message}`);
  }
};

describe('agent config: backends and aggregate', () => {
  it('accepts commands and URLs with their overrides, and defaults the aggregate settings', () => {
    const c = parseAgentConfig({
      backends: [
        { name: 'everything', command: ['npx', 'server-everything'], toolsFilter: ['echo'], rename: { echo: 'say' }, descriptions: { echo: 'Says it' }, priority: 2, env: { A: 'b' } },
        { name: 'remote', url: 'https://mcp.example.com/mcp', transport: 'streamable-http' },
      ],
      aggregate: {},
    });
    expect(c.aggregate).toEqual({ collision: 'prefix', separator: '_', failMode: 'open' });
  });

  it('names each bad field', () => {
    expect(issues({ backends: [{ name: 'Bad_Name', command: ['x'] }] })).toEqual([expect.stringMatching(/^backends\[0\]\.name: must match pattern/)]);
    expect(issues({ backends: [{ name: 'a', command: ['x'], url: 'http://127.0.0.1/mcp' }] })).toEqual(['backends[0]: give exactly one of command and url']);
    expect(issues({ backends: [{ name: 'a' }] })).toEqual(['backends[0]: give exactly one of command and url']);
    expect(issues({ backends: [{ name: 'a', command: ['x'], transport: 'sse' }] })).toEqual(['backends[0]: transport is for url backends']);
    expect(issues({ backends: [{ name: 'a', command: ['x'] }, { name: 'a', command: ['y'] }] })).toEqual(['backends[1].name: duplicates backend a']);
    expect(issues({ backends: [{ name: 'a', command: ['x'] }], upstream: { command: ['y'] } })).toEqual(['backends: give either backends or an upstream command/url, not both']);
    expect(issues({ backends: [{ name: 'a', command: ['x'] }], aggregate: { separator: '/', collision: 'merge' } })).toEqual([
      expect.stringMatching(/^aggregate\.collision: must be one of/),
      expect.stringMatching(/^aggregate\.separator: must match pattern/),
    ]);
    expect(issues({ backends: [] })).toEqual([expect.stringMatching(/^backends: /)]);
  });
});
