// The agent config contract, end to end on one machine: every MCPServer / ClusterMCPServer in
// manifests/examples goes through the reconciler's resolve + build, and the agent's own option
// parser reads the resulting ConfigMap with exactly the args and env of the injected agent
// container. (Issue 11's root cause: `upstream` in agent.json used to be read as --upstream.)
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1ConfigMap, V1Container, V1Deployment } from '@kubernetes/client-node';
import { Value } from 'typebox/value';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseOptions } from '../../agent/config/options.js';
import { AGENT_CONFIG_MOUNT_PATH, AGENT_CONTAINER_NAME, AGENT_ENV } from '../../api/annotations.js';
import { MCPServerSpec, type MCPServerSpec as Spec } from '../../api/v1beta1/mcpserver.js';
import { generateTls } from '../webhook/tls.js';
import { buildAll } from './desired.js';
import { resolve, type Lookup } from './resolve.js';
import type { CatalogItem } from './catalog/items.js';
import { resolveServerCatalog } from './catalog/resolve.js';
import { hasCatalog, serverSelectors } from './catalog/selectors.js';

const EXAMPLES = fileURLToPath(new URL('../../manifests/examples/', import.meta.url));
const INJECTOR_NAMESPACE = 'ome-mcp-system';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const docs: (Doc & { file: string })[] = (readdirSync(EXAMPLES, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(EXAMPLES, file), 'utf8'))
      .map((d) => d.toJS() as Doc | null)
      .filter((d): d is Doc => !!d)
      .map((d) => ({ ...d, file })),
  );

// ConfigMaps come from the examples; Secrets are stand-ins with every key (the agent never reads them from the ConfigMap),
// a real certificate and key under tls.crt / tls.key (the reconciler checks that they fit).
const pair = await generateTls({ dnsNames: ['mcp-example.svc'] });
const TLS_KEYS: Record<string, string> = { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') };
const lookup: Lookup = {
  configMap: (ns, name) => docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name && (d.metadata.namespace ?? 'default') === ns) as V1ConfigMap | undefined,
  secret: (ns, name) => ({ metadata: { name, namespace: ns }, data: new Proxy({}, { get: (_, key) => TLS_KEYS[String(key)] ?? 'eA==' }) }),
};

/** Kubernetes' `$(VAR)` expansion of container args from the container's env (downward API faked). */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ome-mcp-contract-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const servers = docs.filter((d) => d.kind === 'MCPServer' || d.kind === 'ClusterMCPServer');

describe('the agent starts from the ConfigMap the reconciler writes', () => {
  it('covers every server example', () => expect(servers.length).toBeGreaterThanOrEqual(10));

  it.each(servers.map((s) => [`${s.file}: ${s.kind} ${s.metadata.name}`, s] as const))('%s', async (_, server) => {
    const kind = server.kind as 'MCPServer' | 'ClusterMCPServer';
    const ref = { kind, name: server.metadata.name, namespace: kind === 'MCPServer' ? (server.metadata.namespace ?? 'default') : INJECTOR_NAMESPACE };
    const spec = Value.Default(MCPServerSpec, structuredClone(server.spec ?? {})) as Spec;
    // Its declared objects (from the examples) as the server reconcile resolves them.
    const selectors = serverSelectors(spec);
    const items = (kind: string, ns: string) => docs.filter((d) => d.kind === kind && d.metadata.namespace === ns) as unknown as CatalogItem[];
    const catalog = hasCatalog(selectors) ? await resolveServerCatalog(selectors, ref.namespace, items, lookup, 'cluster.local') : undefined;
    if (catalog) expect([...catalog.verdicts.values()].every((v) => v.served)).toBe(true);
    const resolved = await resolve(ref, spec, lookup, { catalog: catalog?.catalog });
    expect(resolved.problems).toEqual([]);
    const objects = buildAll({ ref, spec, agentConfig: resolved.agentConfig!, permissions: resolved.permissions, injector: { agentImage: 'ome-mcp/agent:test' } });
    const cm = objects.find((o) => o.kind === 'ConfigMap') as V1ConfigMap;
    const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    const pod = deployment.spec!.template.spec!;
    const agent = [...(pod.initContainers ?? []), ...pod.containers].find((c: V1Container) => c.name === AGENT_CONTAINER_NAME)!;

    // The ConfigMap mounted where the pod mounts it, the args expanded as the kubelet does.
    const dir = mkdtempSync(path.join(tmp, 'cm-'));
    for (const [k, v] of Object.entries(cm.data ?? {})) writeFileSync(path.join(dir, k), v);
    const env: Record<string, string> = { [AGENT_ENV.podNamespace]: ref.namespace, [AGENT_ENV.podName]: 'pod-0' };
    for (const e of agent.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const args = (agent.args ?? []).map((a) => expand(a, env).replace(`${AGENT_CONFIG_MOUNT_PATH}/`, `${dir}/`));

    const options = await parseOptions(args, env);
    const upstreamCount = [options.command.length > 0, !!options.upstream, !!options.upstreamFifo, !!options.upstreamAttach, options.catalogOnly].filter(Boolean).length;
    expect(upstreamCount).toBe(1);
    if (spec.type === 'Catalog') expect(options.catalogOnly).toBe(true);
    else if (spec.type === 'Remote') expect(options.upstream).toBe(spec.url);
    else if ((spec.transport ?? 'stdio') === 'stdio') expect(options.upstreamFifo ?? options.upstreamAttach).toBeTruthy();
    else expect(options.upstream).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/(mcp|sse)$/);
    expect(options.host).toBe('0.0.0.0');
    expect(options.opsPort).toBeGreaterThan(0);
    expect(options.tls).toEqual(resolved.agentConfig?.tls);
    // The policy the reconciler resolved is the policy the agent binds.
    for (const section of ['oidcConfig', 'authzConfig', 'toolsFilter'] as const) {
      expect(options.policy[section]).toEqual((resolved.agentConfig as Record<string, unknown>)[section]);
    }
  });
});
