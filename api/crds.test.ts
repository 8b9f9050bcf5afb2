import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateCRDs, renderCRD, toStructural } from './crds.js';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'manifests', 'crds');

type Json = Record<string, unknown>;

/** Structural-schema rules the API server enforces, checked here so a bad type fails fast. */
function structuralProblems(node: Json, path: string, out: string[], inAnyOf = false): void {
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!inAnyOf && !node.type && !intOrString) out.push(`${path}: no type`);
  if (node.properties && node.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties`);
  if (node.anyOf && !intOrString) out.push(`${path}: anyOf outside int-or-string`);
  if (node.type === 'object' && !node.properties && !node.additionalProperties && !preserve && path !== '.metadata' && !path.endsWith('.metadata'))
    out.push(`${path}: object without properties (would be pruned empty)`);
  // The API server validates a default against the schema (before nested defaults apply).
  if (node.default !== undefined && typeof node.default === 'object' && node.default !== null && Array.isArray(node.required)) {
    const missing = (node.required as string[]).filter((k) => !(k in (node.default as Json)));
    if (missing.length) out.push(`${path}: default lacks required ${missing.join(', ')}`);
  }
  for (const [k, v] of Object.entries((node.properties as Json | undefined) ?? {})) structuralProblems(v as Json, `${path}.${k}`, out);
  if (node.items) structuralProblems(node.items as Json, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') structuralProblems(node.additionalProperties as Json, `${path}{}`, out);
  for (const a of (node.anyOf as Json[] | undefined) ?? []) structuralProblems(a, path, out, true);
}

describe('CRDs', () => {
  for (const { file, object } of generateCRDs()) {
    it(`${file} is up to date (regenerate with: npx tsx scripts/gen-crds.ts)`, () => {
      expect(readFileSync(join(crdDir, file), 'utf8')).toBe(renderCRD(object));
    });

    it(`${file} has a structural schema`, () => {
      const spec = object.spec as Json;
      const version = (spec.versions as Json[])[0] as Json;
      const schema = (version.schema as Json).openAPIV3Schema as Json;
      const problems: string[] = [];
      structuralProblems(schema, '', problems);
      expect(problems).toEqual([]);
    });

    it(`${file} has the status subresource, printer columns and short names`, () => {
      const parsed = parse(readFileSync(join(crdDir, file), 'utf8')) as Json;
      const spec = parsed.spec as Json;
      const version = (spec.versions as Json[])[0] as Json;
      expect(version.subresources).toMatchObject({ status: {} });
      const kind = (spec.names as Json).kind as string;
      const columns = ['MCPTool', 'MCPPrompt', 'MCPResource'].includes(kind) ? ['Valid', 'Served', 'Servers', 'Age'] : kind === 'MCPGateway' ? ['Status', 'URL', 'Backends', 'Age', 'Exposed', 'Exposure'] : ['Status', 'URL', 'Age'];
      expect((version.additionalPrinterColumns as Json[]).map((c) => c.name)).toEqual(columns);
      expect(((spec.names as Json).shortNames as string[]).length).toBeGreaterThan(0);
    });
  }

  it('scopes MCPServer to namespaces and ClusterMCPServer to the cluster', () => {
    const [ns, cluster] = generateCRDs();
    expect((ns!.object.spec as Json).scope).toBe('Namespaced');
    expect((cluster!.object.spec as Json).scope).toBe('Cluster');
  });

  it('carries every CEL rule with its message', () => {
    const text = readFileSync(join(crdDir, 'ome.io_mcpservers.yaml'), 'utf8');
    for (const m of [
      'image is required for Hosted MCP servers',
      'url is required for Remote MCP servers',
      'configMap is required for configMap OIDC configuration',
      'inline is required for inline OIDC configuration',
      'configMap is required for configMap authorization configuration',
      'inline is required for inline authorization configuration',
      'name is required for builtin permission profiles',
      'configMap is required for configMap permission profiles',
      'inline is required for inline permission profiles',
    ])
      expect(text).toContain(`message: ${m}`);
  });

  it('turns records into additionalProperties and refuses unknown keywords', () => {
    expect(toStructural({ type: 'object', patternProperties: { '^.*$': { type: 'string' } } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    expect(() => toStructural({ type: 'string', $id: 'x' })).toThrow(/\$id/);
  });
});
