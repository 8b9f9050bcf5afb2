import { describe, expect, it } from 'vitest';
import { parseFeatureGates } from './features.js';

describe('parseFeatureGates', () => {
  it('defaults MCPServerSupport on and parses flag syntax', () => {
    expect(parseFeatureGates(undefined)).toEqual({ MCPServerSupport: true });
    expect(parseFeatureGates('MCPServerSupport=false, Other=true')).toEqual({ MCPServerSupport: false, Other: true });
    expect(parseFeatureGates({ MCPServerSupport: false })).toEqual({ MCPServerSupport: false });
    expect(() => parseFeatureGates('MCPServerSupport')).toThrow(/invalid feature gate/);
  });
});
