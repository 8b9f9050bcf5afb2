import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AGENT_CONTAINER_NAME, ANNOTATION_INJECTED, BRIDGE_DIR } from '../../api/annotations.js';
import {
  applyPatch,
  BRIDGE_INIT_CONTAINER_NAME,
  FIFO_WRAPPER_SCRIPT,
  mutatePod,
  type InjectorSettings,
  type MutateResult,
  type OptIn,
  type PodLike,
} from './index.js';
import { diff } from './json-patch.js';

const settings: InjectorSettings = { agentImage: 'example.com/ome-mcp/agent:0.1.0' };

function pod(annotations: Record<string, string> = {}, containers: V1Container[] = [{ name: 'mcp', image: 'srv', command: ['node', 'server.js'], args: ['--stdio'] }]): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', annotations },
    spec: { containers },
  };
}

function run<T extends PodLike>(object: T, optIn: OptIn = 'pod', s: InjectorSettings = settings): MutateResult<T> {
  return mutatePod({ object, optIn, settings: s });
}

function injected<T extends PodLike>(r: MutateResult<T>) {
  if (r.outcome !== 'injected') throw new Error(`expected injection, got ${r.outcome}: ${'reason' in r ? r.reason : ''}`);
  return r;
}

function denied(r: MutateResult<unknown>): string {
  if (r.outcome !== 'denied') throw new Error(`expected a denial, got ${r.outcome}`);
  return r.reason;
}

describe('mutatePod: fifo bridge', () => {
  const original = pod({ 'mcp.ome.io/inject': 'true' });
  const r = injected(run(original));
  const spec = r.object.spec!;
  const agent = spec.initContainers!.find((c) => c.name === AGENT_CONTAINER_NAME)!;

  it('adds the agent as a native sidecar after the bridge init container', () => {
    expect(spec.initContainers!.map((c) => c.name)).toEqual([BRIDGE_INIT_CONTAINER_NAME, AGENT_CONTAINER_NAME]);
    expect(agent.restartPolicy).toBe('Always');
    expect(agent.image).toBe(settings.agentImage);
    expect(agent.args).toEqual(['--host', '0.0.0.0', '--port', '8080', '--ops-port', '9090', '--upstream-fifo', BRIDGE_DIR]);
    expect(agent.ports).toEqual([
      { name: 'mcp-agent', containerPort: 8080, protocol: 'TCP' },
      { name: 'mcp-agent-ops', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(agent.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 9090 });
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 9090 });
    expect(agent.resources?.requests).toBeDefined();
    expect(r.upstream).toEqual({ kind: 'fifo', container: 'mcp', argv: ['node', 'server.js', '--stdio'] });
  });

  it('runs the agent and its init container non-root, read-only, without privileges', () => {
    for (const c of spec.initContainers!) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('wraps the server command so its stdin/stdout are the FIFOs', () => {
    const server = spec.containers[0]!;
    expect(server.command).toEqual([`${BRIDGE_DIR}/busybox`, 'sh', '-c', FIFO_WRAPPER_SCRIPT, 'node', 'server.js', '--stdio']);
    expect(server.args).toBeUndefined();
    expect(server.volumeMounts).toContainEqual({ name: 'ome-mcp-bridge', mountPath: BRIDGE_DIR, readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'ome-mcp-bridge', emptyDir: { sizeLimit: '32Mi' } });
    const init = spec.initContainers![0]!;
    expect(init.command!.slice(0, 3)).toEqual(['/usr/local/bin/busybox', 'sh', '-c']);
    expect(init.command![3]).toContain('mkfifo -m 666');
  });

  it('returns a JSONPatch that turns the original into the mutated pod', () => {
    expect(r.patch.length).toBeGreaterThan(0);
    expect(applyPatch(original, r.patch)).toEqual(r.object);
    expect(r.patch.find((op) => op.path === `/metadata/annotations/${ANNOTATION_INJECTED.replace('/', '~1')}`)).toBeDefined();
  });

  it('is idempotent: an injected pod comes back unchanged with an empty patch', () => {
    const again = run(r.object);
    expect(again.outcome).toBe('skipped');
    expect(again.allowed && again.patch).toEqual([]);
    expect(again.allowed && again.object).toEqual(r.object);
    // Reinvocation after another webhook added a container: still nothing to do.
    const other = structuredClone(r.object);
    other.spec!.containers.push({ name: 'istio-proxy', image: 'proxy' });
    expect(run(other).outcome).toBe('skipped');
  });

  it('does not touch the input object', () => {
    expect(original.spec!.initContainers).toBeUndefined();
    expect(original.spec!.containers[0]!.command).toEqual(['node', 'server.js']);
  });

  it('takes the command from mcp.ome.io/command and appends the container args', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/command': '["python", "-m", "srv"]' }, [{ name: 'mcp', image: 'py', args: ['--x'] }]);
    const res = injected(run(p));
    expect(res.upstream).toEqual({ kind: 'fifo', container: 'mcp', argv: ['python', '-m', 'srv', '--x'] });
    expect(injected(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/command': '/srv' }, [{ name: 'mcp', image: 'x' }]))).upstream).toMatchObject({ argv: ['/srv'] });
  });

  it('keeps $(VAR) references in the wrapped argv for the kubelet to expand', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'x', command: ['srv'], args: ['--token', '$(TOKEN)'] }]);
    expect(injected(run(p)).object.spec!.containers[0]!.command!.slice(-2)).toEqual(['--token', '$(TOKEN)']);
  });

  it('warns that restartPolicy Never does not restart the server after an agent restart', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true' });
    p.spec!.restartPolicy = 'Never';
    expect(injected(run(p)).warnings.join()).toMatch(/restartPolicy Never/);
  });

  it('puts agent init containers before the pod own init containers', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true' });
    p.spec!.initContainers = [{ name: 'migrate', image: 'm' }];
    const res = injected(run(p));
    expect(res.object.spec!.initContainers!.map((c) => c.name)).toEqual([BRIDGE_INIT_CONTAINER_NAME, AGENT_CONTAINER_NAME, 'migrate']);
    expect(res.patch.filter((op) => op.path.startsWith('/spec/initContainers/')).map((op) => op.op)).toEqual(['add', 'add']);
    expect(applyPatch(p, res.patch)).toEqual(res.object);
  });
});

describe('mutatePod: attach bridge', () => {
  it('falls back to attach when only the image entrypoint is known', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'srv', args: ['--stdio'] }]);
    const r = injected(run(p));
    expect(r.upstream).toEqual({ kind: 'attach', container: 'mcp' });
    const server = r.object.spec!.containers[0]!;
    expect(server.stdin).toBe(true);
    expect(server.stdinOnce).toBe(false);
    expect(server.args).toEqual(['--stdio']);
    expect(server.command).toBeUndefined();
    const agent = r.object.spec!.initContainers!.find((c) => c.name === AGENT_CONTAINER_NAME)!;
    expect(agent.args).toContain('$(OME_MCP_POD_NAMESPACE)/$(OME_MCP_POD_NAME)/mcp');
    expect(agent.env).toContainEqual({ name: 'OME_MCP_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(r.object.spec!.initContainers!.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    // The agent's own API credentials (for the attach), mounted into the agent only.
    expect(r.object.spec!.volumes!.map((v) => v.name)).toEqual(['ome-mcp-agent-token']);
    const agentMounts = r.object.spec!.initContainers!.find((c) => c.name === 'mcp-agent')!.volumeMounts;
    expect(agentMounts).toEqual([{ name: 'ome-mcp-agent-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
    expect(r.object.spec!.containers[0]!.volumeMounts).toBeUndefined();
    expect(r.warnings.join()).toMatch(/pods\/attach/);
    expect(applyPatch(p, r.patch)).toEqual(r.object);
  });

  it('honours an explicit bridge even when the command is known', () => {
    const r = injected(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/bridge': 'attach' })));
    expect(r.upstream.kind).toBe('attach');
    expect(r.object.spec!.containers[0]!.command).toEqual(['node', 'server.js']);
    expect(r.warnings).toEqual([]);
  });

  it('refuses bridge fifo without a command', () => {
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/bridge': 'fifo' }, [{ name: 'mcp', image: 'x' }])))).toMatch(/mcp\.ome\.io\/command/);
  });
});

describe('mutatePod: HTTP upstream', () => {
  it('builds an agent-only pod for a remote server', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/upstream-url': 'https://mcp.example.com/mcp', 'mcp.ome.io/transport': 'streamable-http' }, []);
    const r = injected(run(p));
    expect(r.object.spec!.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(r.object.spec!.containers[0]!.restartPolicy).toBeUndefined();
    expect(r.object.spec!.initContainers).toBeUndefined();
    expect(r.object.spec!.containers[0]!.args).toEqual(['--host', '0.0.0.0', '--port', '8080', '--ops-port', '9090', '--upstream', 'https://mcp.example.com/mcp', '--upstream-transport', 'streamable-http']);
    expect(run(r.object).outcome).toBe('skipped');
  });

  it('fronts an HTTP server container as a sidecar', () => {
    const p = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/upstream-url': 'http://127.0.0.1:3000/mcp' }, [
      { name: 'mcp', image: 'x', ports: [{ containerPort: 3000 }] },
    ]);
    const r = injected(run(p));
    expect(r.object.spec!.initContainers![0]!.args).toContain('http://127.0.0.1:3000/mcp');
    expect(r.object.spec!.containers[0]).toEqual(p.spec!.containers[0]);
  });

  it('refuses an upstream on the agent own port', () => {
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/upstream-url': 'http://localhost:8080/mcp' })))).toMatch(/own port/);
  });
});

describe('mutatePod: catalog only', () => {
  it('the agent alone with --catalog-only and its config', () => {
    const r = injected(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/catalog-only': 'true', 'mcp.ome.io/config': 'cfg' }, [])));
    expect(r.upstream).toEqual({ kind: 'catalog' });
    expect(r.object.spec!.containers.map((c) => c.name)).toEqual([AGENT_CONTAINER_NAME]);
    expect(r.object.spec!.containers[0]!.args).toContain('--catalog-only');
    expect(r.object.spec!.initContainers ?? []).toEqual([]);
  });

  it.each([
    ['an upstream URL', { 'mcp.ome.io/upstream-url': 'http://127.0.0.1:1/' }, [], /exclude each other/],
    ['no config', {}, [], /needs mcp\.ome\.io\/config/],
    ['containers of its own', { 'mcp.ome.io/config': 'cfg' }, undefined, /the agent alone/],
  ] as const)('refuses %s', (_what, extra, containers, why) => {
    const annotations = { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/catalog-only': 'true', ...extra };
    expect(denied(run(containers ? pod(annotations, [...containers]) : pod(annotations)))).toMatch(why);
  });
});

describe('mutatePod: backends (an MCPGateway pod)', () => {
  it('the agent alone with its config and no upstream argument', () => {
    const r = injected(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/backends': 'true', 'mcp.ome.io/config': 'cfg' }, [])));
    expect(r.upstream).toEqual({ kind: 'backends' });
    const [agent, ...others] = r.object.spec!.containers;
    expect([agent!.name, others.length]).toEqual([AGENT_CONTAINER_NAME, 0]);
    expect(agent!.args).toContain('--config');
    expect(agent!.args!.filter((a) => a.startsWith('--upstream') || a === '--catalog-only')).toEqual([]);
  });

  it.each([
    ['catalog-only too', { 'mcp.ome.io/catalog-only': 'true', 'mcp.ome.io/config': 'cfg' }, [], /exclude each other/],
    ['a transport', { 'mcp.ome.io/transport': 'sse', 'mcp.ome.io/config': 'cfg' }, [], /exclude each other/],
    ['no config', {}, [], /needs mcp\.ome\.io\/config/],
    ['a bad value', { 'mcp.ome.io/backends': 'yes', 'mcp.ome.io/config': 'cfg' }, [], /must be "true" or "false"/],
  ] as const)('refuses %s', (_what, extra, containers, why) => {
    const annotations = { 'mcp.ome.io/inject': 'true', 'mcp.ome.io/backends': 'true', ...extra };
    expect(denied(run(pod(annotations, [...containers])))).toMatch(why);
  });
});

describe('mutatePod: configuration annotations', () => {
  it('mounts the config, OIDC and Cedar ConfigMaps and tells the agent where', () => {
    const r = injected(
      run(
        pod({
          'mcp.ome.io/inject': 'true',
          'mcp.ome.io/port': '9000',
          'mcp.ome.io/config': 'agent-cfg',
          'mcp.ome.io/oidc-configmap': 'oidc/issuer.json',
          'mcp.ome.io/cedar-configmap': 'policies',
        }),
        'pod',
        { ...settings, logLevel: 'debug', resources: { requests: { cpu: '1' } } },
      ),
    );
    const agent = r.object.spec!.initContainers!.find((c) => c.name === AGENT_CONTAINER_NAME)!;
    expect(agent.args).toEqual(['--host', '0.0.0.0', '--port', '9000', '--ops-port', '9090', '--upstream-fifo', BRIDGE_DIR, '--config', '/etc/ome-mcp/agent.json', '--log-level', 'debug']);
    expect(agent.env).toContainEqual({ name: 'OME_MCP_OIDC_CONFIG_FILE', value: '/etc/ome-mcp-oidc/issuer.json' });
    expect(agent.env).toContainEqual({ name: 'OME_MCP_CEDAR_POLICIES', value: '/etc/ome-mcp-cedar' });
    expect(agent.resources).toEqual({ requests: { cpu: '1' } });
    expect(agent.startupProbe?.httpGet?.port).toBe(9090);
    expect(r.object.spec!.volumes!.map((v) => v.name)).toEqual(['ome-mcp-bridge', 'ome-mcp-config', 'ome-mcp-oidc', 'ome-mcp-cedar']);
    expect(r.object.spec!.volumes![1]).toEqual({ name: 'ome-mcp-config', configMap: { name: 'agent-cfg' } });
  });
});

describe('mutatePod: TLS and the ops port', () => {
  const agentOf = (r: MutateResult<V1Pod>) => injected(r).object.spec!.initContainers!.find((c) => c.name === AGENT_CONTAINER_NAME)!;

  it('mcp.ome.io/tls-secret: the Secret is mounted read-only into the agent alone, which serves HTTPS with it', () => {
    const r = injected(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/tls-secret': 'github-tls' })));
    const agent = agentOf(r);
    expect(agent.args).toEqual(expect.arrayContaining(['--tls-cert-file', '/etc/ome-mcp-tls/tls.crt', '--tls-key-file', '/etc/ome-mcp-tls/tls.key']));
    expect(agent.volumeMounts).toContainEqual({ name: 'ome-mcp-tls', mountPath: '/etc/ome-mcp-tls', readOnly: true });
    expect(r.object.spec!.volumes).toContainEqual({ name: 'ome-mcp-tls', secret: { secretName: 'github-tls' } });
    const server = r.object.spec!.containers.find((c) => c.name === 'mcp')!;
    expect((server.volumeMounts ?? []).map((m) => m.name)).not.toContain('ome-mcp-tls');
    // Probes stay plain HTTP on the ops port, whatever the MCP port does.
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 9090 });
    expect(agent.readinessProbe?.httpGet?.scheme).toBeUndefined();
  });

  it('points Prometheus at the ops port unless the pod says otherwise', () => {
    expect(injected(run(pod({ 'mcp.ome.io/inject': 'true' }))).object.metadata!.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'prometheus.io/path': '/metrics',
    });
    const own = injected(run(pod({ 'mcp.ome.io/inject': 'true', 'prometheus.io/port': '3000' }))).object.metadata!.annotations!;
    expect(own['prometheus.io/port']).toBe('3000');
  });

  it('the default ops port moves aside from a port in use; an annotated one is used as given', () => {
    const busy = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/port': '9090' }, [{ name: 'mcp', image: 'x', command: ['s'], ports: [{ containerPort: 9091 }] }]);
    expect(agentOf(run(busy)).args).toEqual(expect.arrayContaining(['--port', '9090', '--ops-port', '9092']));
    const http = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/upstream-url': 'http://127.0.0.1:9090/mcp' }, [{ name: 'mcp', image: 'x' }]);
    expect(agentOf(run(http)).args).toEqual(expect.arrayContaining(['--ops-port', '9091']));
    const annotated = agentOf(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/ops-port': '9500' })));
    expect(annotated.args).toEqual(expect.arrayContaining(['--ops-port', '9500']));
    expect(annotated.ports).toContainEqual({ name: 'mcp-agent-ops', containerPort: 9500, protocol: 'TCP' });
  });

  it('refuses an ops port in use, a bad port or Secret name, and a reserved TLS volume', () => {
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/ops-port': '8080' })))).toMatch(/mcp\.ome\.io\/ops-port: port 8080 is already used/);
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/ops-port': 'metrics' })))).toMatch(/ops-port must be a port number/);
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/tls-secret': 'Bad_Name' })))).toMatch(/tls-secret must be a Secret name/);
    const withVolume = pod({ 'mcp.ome.io/inject': 'true', 'mcp.ome.io/tls-secret': 'x' });
    withVolume.spec!.volumes = [{ name: 'ome-mcp-tls', emptyDir: {} }];
    expect(denied(run(withVolume))).toMatch(/volume named ome-mcp-tls/);
  });
});

describe('mutatePod: opt-in', () => {
  it('pod opt-in: skips pods not annotated inject=true', () => {
    expect(run(pod()).outcome).toBe('skipped');
    expect(run(pod({ 'mcp.ome.io/inject': 'false' })).outcome).toBe('skipped');
  });

  it('namespace opt-in: injects MCP pods, skips others and opted-out pods', () => {
    expect(run(pod(), 'namespace').outcome).toBe('injected');
    expect(run(pod({ 'mcp.ome.io/inject': 'false' }), 'namespace').outcome).toBe('skipped');
    const web = pod({}, [{ name: 'web', image: 'nginx', command: ['nginx'] }]);
    const r = run(web, 'namespace');
    expect(r.outcome).toBe('skipped');
    expect(r.allowed && r.patch).toEqual([]);
  });

  it('explicit opt-in takes a lone container of another name as the server', () => {
    expect(injected(run(pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'srv', image: 'x', command: ['s'] }]))).upstream).toMatchObject({ container: 'srv' });
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }])))).toMatch(/no MCP server container/);
  });

  it('force (reconciler) injects pod templates without the annotation', () => {
    const template: PodLike = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'mcp', image: 'x', command: ['srv'] }] } };
    const r = injected(run(template, 'force'));
    expect(r.object.metadata!.annotations![ANNOTATION_INJECTED]).toContain('fifo');
    expect(applyPatch(template, r.patch)).toEqual(r.object);
  });
});

describe('mutatePod: refusals are clear and never throw', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['inject yes', { 'mcp.ome.io/inject': 'yes' }, /must be "true" or "false"/],
    ['port text', { 'mcp.ome.io/port': 'http' }, /port number/],
    ['port range', { 'mcp.ome.io/port': '70000' }, /port number/],
    ['bridge', { 'mcp.ome.io/bridge': 'socat' }, /fifo, attach/],
    ['command json', { 'mcp.ome.io/command': '["a",' }, /not a valid JSON array/],
    ['command items', { 'mcp.ome.io/command': '[1]' }, /non-empty JSON array/],
    ['config name', { 'mcp.ome.io/config': 'Bad_Name' }, /ConfigMap name/],
    ['config key', { 'mcp.ome.io/config': 'cfg/key' }, /ConfigMap name/],
    ['oidc ref', { 'mcp.ome.io/oidc-configmap': 'a/b/c' }, /name or name\/key/],
    ['url scheme', { 'mcp.ome.io/upstream-url': 'ftp://x' }, /http\(s\) URL/],
    ['url', { 'mcp.ome.io/upstream-url': 'not a url' }, /http\(s\) URL/],
    ['transport', { 'mcp.ome.io/transport': 'grpc' }, /stdio, streamable-http or sse/],
    ['http transport without url', { 'mcp.ome.io/transport': 'sse' }, /needs mcp\.ome\.io\/upstream-url/],
    ['bridge with url', { 'mcp.ome.io/bridge': 'fifo', 'mcp.ome.io/upstream-url': 'http://127.0.0.1:1/' }, /exclude each other/],
  ];
  for (const [name, annotations, message] of cases) {
    it(`denies: ${name}`, () => {
      expect(denied(run(pod({ 'mcp.ome.io/inject': 'true', ...annotations })))).toMatch(message);
    });
  }

  it('denies a user container named mcp-agent, a reserved volume, a port clash and a tty', () => {
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'x', command: ['s'] }, { name: 'mcp-agent', image: 'y' }])))).toMatch(/reserves/);
    const withVolume = pod({ 'mcp.ome.io/inject': 'true' });
    withVolume.spec!.volumes = [{ name: 'ome-mcp-bridge', emptyDir: {} }];
    expect(denied(run(withVolume))).toMatch(/volume named ome-mcp-bridge/);
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'x', command: ['s'], ports: [{ containerPort: 8080 }] }])))).toMatch(/port 8080/);
    expect(denied(run(pod({ 'mcp.ome.io/inject': 'true' }, [{ name: 'mcp', image: 'x', command: ['s'], tty: true }])))).toMatch(/tty/);
  });

  it('answers garbage with a denial, not an exception', () => {
    const garbage: unknown[] = [null, 42, 'pod', {}, { spec: null }, { spec: { containers: 'x' } }, { metadata: { annotations: 'x' }, spec: { containers: [] } }];
    for (const g of garbage) {
      const r = mutatePod({ object: g as PodLike, optIn: 'force', settings });
      expect(r.outcome).toBe('denied');
    }
    const weird = { metadata: { annotations: { 'mcp.ome.io/port': 8080 as unknown as string } }, spec: { containers: [{ name: 'mcp', command: ['s'], ports: 'x' }] } } as unknown as PodLike;
    expect(() => mutatePod({ object: weird, optIn: 'force', settings })).not.toThrow();
  });
});

describe('json-patch diff', () => {
  it('escapes pointer tokens and handles removals and array shrink', () => {
    const a = { m: { 'a/b': 1, 't~': 2 }, l: [1, 2, 3, 4], gone: true };
    const b = { m: { 'a/b': 3 }, l: [1, 4], added: [{}] };
    const ops = diff(a, b);
    expect(ops).toContainEqual({ op: 'replace', path: '/m/a~1b', value: 3 });
    expect(ops).toContainEqual({ op: 'remove', path: '/m/t~0' });
    expect(applyPatch(a, ops)).toEqual(b);
    expect(diff(b, b)).toEqual([]);
  });
});
