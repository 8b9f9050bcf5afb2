import { describe, expect, it } from 'vitest';
import { check, collectCelRules, isCelSupported } from '../validate.js';
import { ClusterMCPServer, MCPServer, MCPServerSpec, type MCPServerSpec as Spec } from './index.js';

const issues = (schema: typeof MCPServerSpec | typeof MCPServer | typeof ClusterMCPServer, v: unknown) =>
  check(schema, v).issues.map((i) => `${i.path}: ${i.message}`);

describe('MCPServerSpec', () => {
  it('applies the defaults of the API reference', () => {
    const { value, issues } = check<Spec>(MCPServerSpec, { image: 'mcp/x:1', capabilities: {}, protocol: {} });
    expect(issues).toEqual([]);
    expect(value).toMatchObject({
      type: 'Hosted',
      transport: 'stdio',
      replicas: 1,
      port: 8080,
      targetPort: 8080,
      capabilities: { tools: true, resources: false, prompts: false },
      protocol: { name: 'JSON-RPC', version: '2.0' },
    });
  });

  it('requires image for Hosted and url for Remote (CEL)', () => {
    expect(issues(MCPServerSpec, {})).toEqual([': image is required for Hosted MCP servers']);
    expect(issues(MCPServerSpec, { type: 'Hosted', image: '' })).toEqual([': image is required for Hosted MCP servers']);
    expect(issues(MCPServerSpec, { type: 'Remote' })).toEqual([': url is required for Remote MCP servers']);
    expect(issues(MCPServerSpec, { type: 'Remote', url: 'https://x.example.com' })).toEqual([]);
  });

  it('validates enums, ranges and patterns', () => {
    expect(issues(MCPServerSpec, { image: 'i', transport: 'grpc' })).toEqual(['transport: must be one of "stdio", "streamable-http", "sse"']);
    expect(issues(MCPServerSpec, { image: 'i', replicas: 101 })).toEqual(['replicas: must be <= 100']);
    expect(issues(MCPServerSpec, { image: 'i', port: 0 })).toEqual(['port: must be >= 1']);
    expect(issues(MCPServerSpec, { type: 'Remote', url: 'ftp://x' })).toEqual(['url: must be an http or https URL']);
    expect(issues(MCPServerSpec, { image: 'i', secrets: [{ name: '', key: 'k' }] })).toEqual(['secrets[0].name: must not have fewer than 1 characters']);
    expect(issues(MCPServerSpec, { image: 'i', permissionProfile: { type: 'builtin', name: 'all' } })).toEqual([
      'permissionProfile.name: must be one of "none", "network"',
    ]);
  });

  it('runs the nested reference CEL rules', () => {
    expect(issues(MCPServerSpec, { image: 'i', permissionProfile: {} })).toEqual(['permissionProfile: name is required for builtin permission profiles']);
    expect(issues(MCPServerSpec, { image: 'i', permissionProfile: { type: 'inline' } })).toEqual([
      'permissionProfile: inline is required for inline permission profiles',
    ]);
    expect(issues(MCPServerSpec, { image: 'i', authzConfig: {} })).toEqual(['authzConfig: configMap is required for configMap authorization configuration']);
    expect(issues(MCPServerSpec, { image: 'i', oidcConfig: { type: 'inline' } })).toEqual(['oidcConfig: inline is required for inline OIDC configuration']);
  });

  it('keeps core/v1 objects it does not model field by field', () => {
    const spec = {
      image: 'i',
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      volumes: [{ name: 'data', emptyDir: {} }],
      podTemplateSpec: { spec: { containers: [{ name: 'mcp', image: 'x' }] } },
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: 1 } },
    };
    expect(issues(MCPServerSpec, spec)).toEqual([]);
    expect(issues(MCPServerSpec, { ...spec, resources: { requests: { cpu: 'lots' } } })).toEqual([
      'resources.requests.cpu: must match pattern ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    ]);
  });
});

describe('ClusterMCPServer', () => {
  it('carries the object-level CEL rules of the API reference', () => {
    expect(issues(ClusterMCPServer, { spec: { type: 'Remote' } })).toEqual(
      expect.arrayContaining([': url is required for Remote MCP servers', 'spec: url is required for Remote MCP servers']),
    );
    expect(issues(ClusterMCPServer, { spec: { image: 'x' } })).toEqual([]);
  });
});

describe('CEL rules', () => {
  it('are all understood by the local evaluator', () => {
    for (const schema of [MCPServer, ClusterMCPServer]) {
      for (const r of collectCelRules(schema)) expect(isCelSupported(r.rule), r.rule).toBe(true);
    }
  });
});
