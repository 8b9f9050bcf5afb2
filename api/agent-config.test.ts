import { describe, expect, it } from 'vitest';
import {
  AgentConfig,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REDACTED_ARGUMENTS,
  durationToMs,
  parseAgentConfig,
  ValidationError,
} from './agent-config.js';
import { OIDCConfigRef, InlineOIDCConfig, MCPCapabilities } from './v1beta1/index.js';
import { collectCelRules, isCelSupported } from './validate.js';
import { emptyAgentConfig } from './agent-constants.js';

function issuesOf(v: unknown): string[] {
  try {
    parseAgentConfig(v);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('parseAgentConfig', () => {
  it('of an empty config is emptyAgentConfig() (what an agent without policy uses, without the validator)', () => {
    expect(parseAgentConfig({})).toEqual(emptyAgentConfig());
  });

  it('applies defaults to an empty config', () => {
    const c = parseAgentConfig({});
    expect(c.readOnly).toBe(false);
    expect(c.limits).toEqual({ requestTimeout: '30s', maxConcurrentRequests: 100, maxBodyBytes: DEFAULT_MAX_BODY_BYTES });
    expect(c.audit).toEqual({ enabled: true, includeArguments: false, redactArguments: [...DEFAULT_REDACTED_ARGUMENTS] });
    expect(c.oidcConfig).toBeUndefined();
    expect(c.authzConfig).toBeUndefined();
    expect(c.capabilities).toBeUndefined();
  });

  it('does not modify its input', () => {
    const input = { oidcConfig: { kubernetes: {} } };
    parseAgentConfig(input);
    expect(input).toEqual({ oidcConfig: { kubernetes: {} } });
  });

  it('defaults the kubernetes OIDC type, issuer and audience', () => {
    const c = parseAgentConfig({ oidcConfig: { kubernetes: { namespace: 'ns' } } });
    expect(c.oidcConfig).toEqual({
      type: 'kubernetes',
      kubernetes: { namespace: 'ns', issuer: 'https://kubernetes.default.svc', audience: 'toolhive', useClusterAuth: true },
    });
  });

  it('accepts a full inline config and keeps every field', () => {
    const input = {
      name: 'fs',
      namespace: 'tools',
      upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:3000/mcp' },
      resourceURL: 'https://fs.tools.example.com/mcp',
      scopes: ['mcp:tools'],
      oidcConfig: {
        type: 'inline',
        resourceURL: 'https://fs.tools.example.com/mcp',
        inline: {
          issuer: 'https://auth.example.com',
          audience: 'fs',
          jwksURL: 'https://auth.example.com/jwks',
          introspectionURL: 'https://auth.example.com/introspect',
          clientId: 'agent',
          clientSecret: 's3cret',
          thvCABundlePath: '/etc/ssl/ca.pem',
          jwksAuthTokenPath: '/var/run/token',
          jwksAllowPrivateIP: true,
        },
      },
      authzConfig: { type: 'inline', inline: { policies: ['permit(principal, action, resource);'], entitiesJSON: '[]' } },
      toolsFilter: ['read_file'],
      capabilities: { tools: true },
      readOnly: true,
      limits: {
        requestTimeout: '1m30s',
        maxConcurrentRequests: 10,
        maxBodyBytes: 65536,
        perPrincipal: { maxConcurrentRequests: 2, requestsPerMinute: 60, burst: 10 },
      },
      audit: { enabled: true, includeArguments: true, redactArguments: ['password'] },
    };
    const c = parseAgentConfig(input);
    expect(c).toEqual({ ...input, capabilities: { tools: true, resources: false, prompts: false } });
  });

  it('names a non-https issuer by path', () => {
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { issuer: 'http://auth.example.com' } } })).toEqual([
      'oidcConfig.inline.issuer: must be an https URL',
    ]);
  });

  it('allows http issuers on loopback only', () => {
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { issuer: 'http://127.0.0.1:9000' } } })).toEqual([]);
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { issuer: 'http://localhost:9000' } } })).toEqual([]);
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { issuer: 'not a url' } } })).toEqual([
      'oidcConfig.inline.issuer: must be an https URL',
    ]);
  });

  it('reports every bad field at once, by path', () => {
    const issues = issuesOf({
      oidcConfig: { type: 'inline', inline: { issuer: 'https://a', jwksURL: 'ftp://x' }, bogus: 1 },
      authzConfig: { type: 'inline', inline: { policies: [] } },
      toolsFilter: ['ok', 5],
      limits: { requestTimeout: '30 seconds', maxConcurrentRequests: 0 },
      audit: { redactArguments: 'password' },
      upstream: { transport: 'carrier-pigeon' },
      typo: true,
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        'oidcConfig.bogus: unknown field',
        'typo: unknown field',
        'authzConfig.inline.policies: must not have fewer than 1 items',
        'toolsFilter[1]: must be string',
        'limits.requestTimeout: must match pattern ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
        'limits.maxConcurrentRequests: must be >= 1',
        'audit.redactArguments: must be array',
        'upstream.transport: must be one of "stdio", "streamable-http", "sse"',
        'oidcConfig.inline.jwksURL: must be an https URL',
      ]),
    );
  });

  it('enforces the CRD CEL rules of the shared sub-schemas', () => {
    expect(issuesOf({ oidcConfig: { type: 'inline' } })).toEqual(['oidcConfig: inline is required for inline OIDC configuration']);
    expect(issuesOf({ oidcConfig: { type: 'configMap' } })).toEqual(['oidcConfig: configMap is required for configMap OIDC configuration']);
    expect(issuesOf({ authzConfig: { type: 'file' } })).toEqual(['authzConfig: file is required for file authorization configuration']);
    expect(issuesOf({ authzConfig: {} })).toEqual(['authzConfig: inline is required for inline authorization configuration']);
    expect(issuesOf({ upstream: { transport: 'sse' } })).toEqual(['upstream: url is required for an HTTP upstream']);
  });

  it('requires the inline issuer and a name for configMap references', () => {
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { audience: 'x' } } })).toEqual(['oidcConfig.inline.issuer: is required']);
    expect(issuesOf({ authzConfig: { type: 'configMap', configMap: {} } })).toEqual(['authzConfig.configMap.name: is required']);
  });

  it('defaults configMap keys and entities', () => {
    const c = parseAgentConfig({
      oidcConfig: { type: 'configMap', configMap: { name: 'o' } },
      authzConfig: { type: 'configMap', configMap: { name: 'a' } },
    });
    expect(c.oidcConfig?.configMap).toEqual({ name: 'o', key: 'oidc.json' });
    expect(c.authzConfig?.configMap).toEqual({ name: 'a', key: 'authz.json' });
    const d = parseAgentConfig({ authzConfig: { inline: { policies: ['permit(principal, action, resource);'] } } });
    expect(d.authzConfig).toEqual({ type: 'inline', inline: { policies: ['permit(principal, action, resource);'], entitiesJSON: '[]' } });
  });

  it('accepts file-based Cedar policies', () => {
    const c = parseAgentConfig({ authzConfig: { type: 'file', file: { policyPaths: ['/etc/cedar'], entitiesPath: '/etc/cedar/e.json' } } });
    expect(c.authzConfig?.file?.policyPaths).toEqual(['/etc/cedar']);
  });

  it('checks entitiesJSON is a JSON array', () => {
    expect(issuesOf({ authzConfig: { inline: { policies: ['x'], entitiesJSON: '{' } } })[0]).toMatch(
      /^authzConfig\.inline\.entitiesJSON: is not valid JSON/,
    );
    expect(issuesOf({ authzConfig: { inline: { policies: ['x'], entitiesJSON: '{}' } } })).toEqual([
      'authzConfig.inline.entitiesJSON: must be a JSON array',
    ]);
  });

  it('checks introspection client credentials come with a client id', () => {
    expect(issuesOf({ oidcConfig: { type: 'inline', inline: { issuer: 'https://a', clientSecret: 'x' } } })).toEqual([
      'oidcConfig.inline.clientId: is required when a client secret is set',
    ]);
  });

  it('checks the per-principal burst needs a rate', () => {
    expect(issuesOf({ limits: { perPrincipal: { burst: 5 } } })).toEqual(['limits.perPrincipal.burst: needs requestsPerMinute']);
  });

  it('rejects non-objects', () => {
    expect(issuesOf(null)).toEqual([': must be an object']);
    expect(issuesOf([])).toEqual([': must be an object']);
  });

  it('error message lists the paths', () => {
    expect(() => parseAgentConfig({ oidcConfig: { type: 'inline', inline: { issuer: 'http://x.example' } } })).toThrow(
      /oidcConfig\.inline\.issuer: must be an https URL/,
    );
  });
});

describe('durationToMs', () => {
  it('parses Go-style durations', () => {
    expect(durationToMs('500ms')).toBe(500);
    expect(durationToMs('30s')).toBe(30_000);
    expect(durationToMs('1h30m')).toBe(5_400_000);
    expect(durationToMs('1.5s')).toBe(1500);
    expect(() => durationToMs('5')).toThrow();
  });
});

describe('shared sub-schemas', () => {
  it('are the very objects of the MCPServer API', () => {
    const json = (v: unknown) => JSON.stringify(v);
    expect(json(AgentConfig.properties.oidcConfig)).toBe(json(OIDCConfigRef));
    expect(json(AgentConfig.properties.oidcConfig.properties.inline)).toBe(json(InlineOIDCConfig));
    expect(json(AgentConfig.properties.capabilities)).toBe(json(MCPCapabilities));
  });

  it('use only CEL rules the local evaluator understands', () => {
    const rules = collectCelRules(AgentConfig);
    expect(rules.length).toBeGreaterThan(4);
    for (const r of rules) expect(isCelSupported(r.rule), r.rule).toBe(true);
  });
});
