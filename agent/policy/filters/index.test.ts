import { describe, expect, it } from 'vitest';
import { Filters, methodSpec } from './index.js';

describe('method table', () => {
  it('classifies protocol plumbing as bypass and feature methods by feature', () => {
    for (const m of ['initialize', 'ping', 'notifications/initialized', 'notifications/roots/list_changed', 'logging/setLevel', 'server/discover']) {
      expect(methodSpec(m)?.kind).toBe('bypass');
    }
    expect(methodSpec('tools/call')).toEqual({ kind: 'item', feature: 'tool' });
    expect(methodSpec('resources/subscribe')).toEqual({ kind: 'item', feature: 'resource' });
    expect(methodSpec('resources/templates/list')).toEqual({ kind: 'list', feature: 'resource' });
    expect(methodSpec('completion/complete')?.kind).toBe('complete');
    expect(methodSpec('tasks/list')).toBeUndefined();
    expect(methodSpec('sampling/createMessage')).toBeUndefined();
  });
});

describe('Filters', () => {
  it('no options: nothing is hidden and the hot path can skip it', () => {
    const f = new Filters();
    expect(f.active).toBe(false);
    expect(f.toolVisible('anything')).toBe(true);
    const init = { capabilities: { tools: {}, prompts: {} } };
    expect(f.reduceCapabilities(init)).toBe(init);
  });

  it('capabilities given: API defaults (tools on, resources and prompts off) for unset ones', () => {
    const f = new Filters({ capabilities: { resources: true } });
    expect(f.featureEnabled('tool')).toBe(true);
    expect(f.featureEnabled('resource')).toBe(true);
    expect(f.featureEnabled('prompt')).toBe(false);
    const init = { protocolVersion: 'x', capabilities: { tools: {}, prompts: { listChanged: true }, resources: {}, completions: {} } };
    expect(f.reduceCapabilities(init)).toEqual({ protocolVersion: 'x', capabilities: { tools: {}, resources: {}, completions: {} } });
    expect(init.capabilities.prompts).toEqual({ listChanged: true });
  });

  it('toolsFilter is an exact-name allow list', () => {
    const f = new Filters({ toolsFilter: ['a', 'b'] });
    expect(f.toolVisible('a')).toBe(true);
    expect(f.toolVisible('A')).toBe(false);
    expect(f.toolVisible('c')).toBe(false);
  });

  it('read-only mode trusts only the server-side readOnlyHint', () => {
    const f = new Filters({ readOnly: true, toolsFilter: ['r', 'w', 'x'] });
    f.setAnnotations([{ name: 'r', annotations: { readOnlyHint: true } }, { name: 'w', annotations: { readOnlyHint: false } }, { name: 'x' }]);
    expect(f.toolVisible('r')).toBe(true);
    expect(f.toolVisible('w')).toBe(false);
    expect(f.toolVisible('x')).toBe(false);
  });
});
