import { describe, expect, it } from 'vitest';
import { buildMergedView, resourceOwner, templatePattern, type BackendView } from './merged-view.js';

const tools = (...names: string[]) => names.map((name) => ({ name, description: `${name} tool`, inputSchema: { type: 'object' } }));
const prefix = { collision: 'prefix', separator: '_' } as const;
const priority = { collision: 'priority', separator: '_' } as const;

describe('buildMergedView', () => {
  it('prefixes tools and prompts with the backend and routes them back to the original name', () => {
    const c = buildMergedView(
      [
        { name: 'a', lists: { tools: tools('echo', 'add'), prompts: [{ name: 'greet' }] } },
        { name: 'b', lists: { tools: tools('echo') } },
      ],
      prefix,
    );
    expect(c.lists.tools.map((t) => t.name)).toEqual(['a_echo', 'a_add', 'b_echo']);
    expect(c.tools.get('b_echo')).toEqual({ backend: 'b', name: 'echo' });
    expect(c.prompts.get('a_greet')).toEqual({ backend: 'a', name: 'greet' });
    expect(c.lists.tools[0]).toMatchObject({ description: 'echo tool', inputSchema: { type: 'object' } });
    expect(c.problems).toEqual([]);
  });

  it("marks each listed tool with its backend in _meta, over the backend's own claim, keeping its other _meta", () => {
    const c = buildMergedView(
      [
        { name: 'a', lists: { tools: [{ name: 'echo', _meta: { 'ome.io/backend': 'b', keep: 1 } }] } },
        { name: 'b', lists: { tools: [{ name: 'echo', _meta: null }] } },
      ],
      prefix,
    );
    expect(c.lists.tools.map((t) => [t.name, t._meta])).toEqual([
      ['a_echo', { 'ome.io/backend': 'a', keep: 1 }],
      ['b_echo', { 'ome.io/backend': 'b' }],
    ]);
  });

  it('priority: unprefixed, the higher priority wins, ties go to the backend listed first; the loser is reported', () => {
    const backends: BackendView[] = [
      { name: 'a', lists: { tools: tools('echo', 'only-a') } },
      { name: 'b', priority: 5, lists: { tools: tools('echo') } },
      { name: 'c', lists: { tools: tools('echo', 'only-a') } },
    ];
    const c = buildMergedView(backends, priority);
    expect(c.tools.get('echo')).toEqual({ backend: 'b', name: 'echo' });
    expect(c.tools.get('only-a')).toEqual({ backend: 'a', name: 'only-a' });
    expect(c.lists.tools.map((t) => t.name)).toEqual(['echo', 'only-a']);
    expect(c.problems).toEqual(['tools echo: offered by b, also by a (theirs hidden)', 'tools echo: offered by b, also by c (theirs hidden)', 'tools only-a: offered by a, also by c (theirs hidden)']);
  });

  it('applies the per-backend filter, rename (verbatim, no prefix) and description override to tools', () => {
    const c = buildMergedView([{ name: 'a', toolsFilter: ['echo', 'add'], rename: { add: 'plus' }, descriptions: { echo: 'mine' }, lists: { tools: tools('echo', 'add', 'hidden') } }], prefix);
    expect(c.lists.tools.map((t) => [t.name, t.description])).toEqual([['a_echo', 'mine'], ['plus', 'add tool']]);
    expect(c.tools.get('plus')).toEqual({ backend: 'a', name: 'add' });
  });

  it('a rename onto a name another backend has is a collision the higher-ranked one wins', () => {
    const c = buildMergedView([{ name: 'a', lists: { tools: tools('echo') } }, { name: 'b', rename: { echo: 'a_echo' }, lists: { tools: tools('echo') } }], prefix);
    expect(c.tools.get('a_echo')).toEqual({ backend: 'a', name: 'echo' });
    expect(c.problems).toHaveLength(1);
  });

  it('skips malformed entries (no name, not an object) and says so', () => {
    const c = buildMergedView([{ name: 'a', lists: { tools: [null, 7, { description: 'nameless' }, { name: '' }, { name: 'ok' }], resources: [{ name: 'no uri' }] } }], prefix);
    expect(c.lists.tools.map((t) => t.name)).toEqual(['a_ok']);
    expect(c.problems).toHaveLength(5);
  });

  it('keeps resource URIs as they are, routed to the backend that listed them, templates by pattern', () => {
    const c = buildMergedView(
      [
        { name: 'a', lists: { resources: [{ uri: 'file:///x', name: 'x' }], resourceTemplates: [{ uriTemplate: 'demo://item/{id}', name: 't' }] } },
        { name: 'b', lists: { resources: [{ uri: 'file:///x', name: 'x' }, { uri: 'mem://y', name: 'y' }] } },
      ],
      prefix,
    );
    expect(c.lists.resources.map((r) => r.uri)).toEqual(['file:///x', 'mem://y']);
    expect(resourceOwner(c, 'file:///x')).toBe('a');
    expect(resourceOwner(c, 'mem://y')).toBe('b');
    expect(resourceOwner(c, 'demo://item/42')).toBe('a');
    expect(resourceOwner(c, 'demo://item/{id}')).toBe('a');
    expect(resourceOwner(c, 'other://z')).toBeUndefined();
  });
});

describe('templatePattern', () => {
  it('accepts any expansion of the expressions and nothing else', () => {
    const p = templatePattern('file:///{+path}?v={v}');
    expect(p.test('file:///a/b.txt?v=1')).toBe(true);
    expect(p.test('http:///a?v=1')).toBe(false);
    expect(templatePattern('a.b://{x}').test('aXb://1')).toBe(false); // literals are literal
  });
});
