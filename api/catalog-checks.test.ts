import { describe, expect, it } from 'vitest';
import { catalogIssues, promptIssues, resourceIssues, toolIssues } from './catalog-checks.js';
import { parseTemplate, render } from './templates.js';
import { parseAgentConfig } from './agent-config.js';

const tool = (http: Record<string, unknown>, inputSchema?: Record<string, unknown>) =>
  ({ name: 't', http: { method: 'POST', retries: 0, response: 'auto', ...http }, ...(inputSchema ? { inputSchema } : {}) }) as Parameters<typeof toolIssues>[0];

describe('templates', () => {
  it('parses {name} and {{name}} placeholders and renders them', () => {
    const t = parseTemplate('http://x/{a}/b?{c}', false);
    expect(t.names).toEqual(['a', 'c']);
    expect(render(t, (n) => n.toUpperCase())).toBe('http://x/A/b?C');
    expect(parseTemplate('Hi {{ who }}, {{who}}!', true).names).toEqual(['who']);
  });
  it('names what is wrong', () => {
    expect(() => parseTemplate('x {{a}', true)).toThrow(/unclosed "\{\{" at 2/);
    expect(() => parseTemplate('x }', false)).toThrow(/unmatched "\}"/);
    expect(() => parseTemplate('{a-b}', false)).toThrow(/is not a name/);
  });
});

describe('catalog checks', () => {
  it('accepts a good tool and refuses placeholders the inputSchema does not declare', () => {
    expect(toolIssues(tool({ url: 'http://s/{q}' }, { type: 'object', properties: { q: { type: 'string' } } }))).toEqual([]);
    expect(toolIssues(tool({ url: 'http://s/{x}' }, { type: 'object', properties: { q: {} } }))).toEqual([{ path: 'target.path', message: '{x} is not a declared argument (q)' }]);
    expect(toolIssues(tool({ url: 'http://s/', method: 'GET', bodyTemplate: '{{q}}' }))[0]?.message).toBe('a GET request has no body');
    expect(toolIssues(tool({ url: 'http://s/' }, { type: 'array' }))[0]?.path).toBe('inputSchema.type');
  });
  it('checks prompt messages against the declared arguments', () => {
    expect(promptIssues({ name: 'p', arguments: [{ name: 'a' }], messages: [{ role: 'user', text: '{{a}} {{b}}' }] })).toEqual([
      { path: 'messages[0].text', message: '{{b}} is not a declared argument (a)' },
    ]);
    expect(promptIssues({ name: 'p', messages: [{ role: 'user', text: 'oops {{' }] })[0]?.message).toMatch(/unclosed/);
  });
  it('checks resources: one URI form, one source, template variables', () => {
    expect(resourceIssues({ uri: 'a://b', name: 'n', mimeType: 'text/plain', text: 'x' })).toEqual([]);
    expect(resourceIssues({ uriTemplate: 'a://{id}', name: 'n', mimeType: 'text/plain', http: { url: 'http://s/{other}' } })[0]?.message).toMatch(/\{other\} is not a declared argument \(id\)/);
    expect(resourceIssues({ uri: 'a://b', name: 'n', mimeType: 'text/plain' })[0]?.message).toMatch(/exactly one content source/);
  });
  it('finds names declared twice, and the agent config refuses a bad catalog naming the field', () => {
    expect(catalogIssues({ prompts: [{ name: 'p', messages: [{ role: 'user', text: 'x' }] }, { name: 'p', messages: [{ role: 'user', text: 'y' }] }] })).toEqual([
      { path: 'catalog.prompts[1]', message: '"p" is declared twice' },
    ]);
    expect(() => parseAgentConfig({ catalog: { tools: [{ name: 't', http: { url: 'http://s/{q' } }] } })).toThrow(/catalog\.tools\[0\]\.target\.path: unclosed/);
  });
});
