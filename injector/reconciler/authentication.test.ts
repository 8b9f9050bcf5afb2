// spec.authentication through the reconciler: resolve checks the Secrets and names the files the
// agent reads; desired mounts them into the agent container alone.
import type { V1ConfigMap, V1Container, V1PodTemplateSpec, V1Secret } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { AGENT_CONTAINER_NAME, MCP_CONTAINER_NAME } from '../../api/annotations.js';
import { check } from '../../api/validate.js';
import { MCPServerSpec, type MCPServerSpec as Spec } from '../../api/v1beta1/mcpserver.js';
import { generateTls } from '../webhook/tls.js';
import { buildDeployment } from './desired.js';
import { resolve, type Lookup } from './resolve.js';

const ref = { kind: 'MCPServer' as const, name: 'db', namespace: 'ds' };
const spec = (s: Partial<Spec>): Spec => Value.Default(MCPServerSpec, structuredClone({ image: 'x', ...s })) as Spec;
const lookup = (secrets: Record<string, Record<string, string>> = {}, cms: Record<string, Record<string, string>> = {}): Lookup => ({
  configMap: (ns, name) => (cms[`${ns}/${name}`] ? ({ data: cms[`${ns}/${name}`] } as V1ConfigMap) : undefined),
  secret: (ns, name) => (secrets[`${ns}/${name}`] ? ({ data: secrets[`${ns}/${name}`] } as V1Secret) : undefined),
});
const SECRETS = { 'ds/keys': { 'keys.yaml': 'eA==' }, 'ds/users': { users: 'eA==' } };
const methods = [
  { type: 'ApiKey', secretRef: { name: 'keys', key: 'keys.yaml' }, header: 'X-Key' },
  { type: 'Basic', secretRef: { name: 'users', key: 'users' }, realm: 'db' },
  { type: 'None' },
] as NonNullable<Spec['authentication']>['methods'];

describe('spec.authentication', () => {
  it('resolves into the agent config with the mounted files in declared order', async () => {
    const r = await resolve(ref, spec({ authentication: { methods } }), lookup(SECRETS));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig!.authentication).toEqual({
      methods: [
        { type: 'ApiKey', keysFile: '/etc/ome-mcp-auth/method-0', header: 'X-Key' },
        { type: 'Basic', usersFile: '/etc/ome-mcp-auth/method-1', realm: 'db' },
        { type: 'None' },
      ],
      maxFailuresPerMinute: 10,
    });
    expect(r.references).toContainEqual({ kind: 'Secret', namespace: 'ds', name: 'keys' });
  });

  it('reports missing Secrets and keys, and the order rules, with spec paths', async () => {
    const r = await resolve(ref, spec({ authentication: { methods: [{ type: 'None' }, ...methods.slice(0, 2), { type: 'Bearer' }] } }), lookup({ 'ds/keys': { other: 'eA==' } }));
    expect(r.problems).toEqual([
      'spec.authentication.methods[0].type: None accepts every caller, so it may only be the last method',
      'spec.authentication.methods[3].type: Bearer verifies tokens per oidcConfig, which is not set',
      'spec.authentication.methods[1].secretRef: Secret ds/keys has no key "keys.yaml"',
      'spec.authentication.methods[2].secretRef: Secret ds/users not found',
    ]);
    expect(r.agentConfig).toBeUndefined();
  });

  it('ClientCertificate needs spec.tls and its CA must exist', async () => {
    const cc = [{ type: 'ClientCertificate', caRef: { kind: 'ConfigMap', name: 'client-ca' } }] as typeof methods;
    const r = await resolve(ref, spec({ authentication: { methods: cc } }), lookup());
    expect(r.problems).toEqual(['spec.authentication.methods[0].type: ClientCertificate needs TLS with a client CA (spec.tls)', 'spec.authentication.methods[0].caRef: ConfigMap ds/client-ca not found']);
  });

  it('ClientCertificate with spec.tls: the CA is the agent\'s tls.clientCAFile', async () => {
    const tls = await generateTls({ dnsNames: ['mcp-db.ds.svc'] });
    const secrets = { 'ds/db-tls': { 'tls.crt': Buffer.from(tls.cert).toString('base64'), 'tls.key': Buffer.from(tls.key).toString('base64') }, 'ds/client-ca': { 'ca.crt': 'eA==' } };
    const cc = [{ type: 'ClientCertificate', caRef: { name: 'client-ca' } }, { type: 'None' }] as typeof methods;
    const r = await resolve(ref, spec({ tls: { secretName: 'db-tls' }, authentication: { methods: cc } }), lookup(secrets));
    expect(r.problems).toEqual([]);
    expect(r.agentConfig!.tls).toMatchObject({ clientCAFile: '/etc/ome-mcp-auth/client-ca.crt' });
    expect(r.agentConfig!.authentication!.methods).toEqual([{ type: 'ClientCertificate' }, { type: 'None' }]);
  });

  it('CEL: ApiKey and Basic need secretRef, ClientCertificate caRef', () => {
    const { issues } = check(MCPServerSpec, { image: 'x', authentication: { methods: [{ type: 'ApiKey' }, { type: 'Basic' }, { type: 'ClientCertificate' }] } });
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'authentication.methods[0]: secretRef is required for ApiKey (a Secret key holding the hashed keys)',
      'authentication.methods[1]: secretRef is required for Basic (a Secret key holding the users and hashes)',
      'authentication.methods[2]: caRef is required for ClientCertificate (the CA that signs client certificates)',
    ]);
  });

  it('the Secrets are mounted read-only into the agent container alone', async () => {
    const s = spec({ authentication: { methods: [...methods.slice(0, 2), { type: 'ClientCertificate', caRef: { name: 'tls-ca' } }] as typeof methods } });
    const agentConfig = (await resolve(ref, { ...s, authentication: { methods } }, lookup(SECRETS))).agentConfig!;
    const t: V1PodTemplateSpec = buildDeployment({ ref, spec: s, agentConfig, injector: { agentImage: 'agent:test' } }).spec!.template;
    const volume = t.spec!.volumes!.find((v) => v.name === 'ome-mcp-auth')!;
    expect(volume.projected!.sources).toEqual([
      { secret: { name: 'keys', items: [{ key: 'keys.yaml', path: 'method-0' }] } },
      { secret: { name: 'users', items: [{ key: 'users', path: 'method-1' }] } },
      { secret: { name: 'tls-ca', items: [{ key: 'ca.crt', path: 'client-ca.crt' }] } },
    ]);
    const c = (name: string): V1Container => [...t.spec!.containers, ...(t.spec!.initContainers ?? [])].find((x) => x.name === name)!;
    expect(c(AGENT_CONTAINER_NAME).volumeMounts).toContainEqual({ name: 'ome-mcp-auth', mountPath: '/etc/ome-mcp-auth', readOnly: true });
    for (const x of [...t.spec!.containers, ...(t.spec!.initContainers ?? [])].filter((x) => x.name !== AGENT_CONTAINER_NAME)) {
      expect((x.volumeMounts ?? []).some((m) => m.name === 'ome-mcp-auth')).toBe(false);
    }
    expect(c(MCP_CONTAINER_NAME)).toBeDefined();
  });
});
