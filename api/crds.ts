// Renders the CustomResourceDefinitions from the typebox types. The typebox definitions are the
// single source of truth; this module only reshapes them into a structural schema
// (patternProperties → additionalProperties, no typebox-only keywords) and adds the CRD envelope.
// scripts/gen-crds.ts writes the result to manifests/crds/; api/crds.test.ts keeps them in sync.
import type { TSchema } from 'typebox';
import { stringify } from 'yaml';
import {
  CLUSTER_MCPSERVER_KIND,
  CLUSTER_MCPSERVER_PLURAL,
  ClusterMCPServer,
  GROUP,
  MCPSERVER_KIND,
  MCPSERVER_PLURAL,
  MCPServer,
  VERSION,
} from './v1beta1/mcpserver.js';
import { CATALOG_KINDS } from './v1beta1/catalog.js';
import { MCPGATEWAY_KIND, MCPGATEWAY_PLURAL, MCPGateway } from './v1beta1/mcpgateway.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON Schema keywords a CRD's openAPIV3Schema accepts (plus every `x-kubernetes-*`). */
const ALLOWED = new Set([
  'type', 'format', 'description', 'default', 'enum', 'nullable', 'pattern', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems',
  'minProperties', 'maxProperties', 'multipleOf', 'required', 'properties', 'items', 'additionalProperties',
  'anyOf', 'allOf', 'oneOf', 'not', 'example', 'title',
]);

/** typebox schema → structural openAPIV3Schema node. */
export function toStructural(schema: TSchema | Json): Json {
  const s = schema as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'patternProperties' && isObj(v)) {
      const values = Object.values(v);
      if (values.length !== 1) throw new Error('only single-pattern records can be expressed as additionalProperties');
      out.additionalProperties = toStructural(values[0] as Json);
    } else if (k === 'properties' && isObj(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, toStructural(pv as Json)]));
    } else if (k === 'items' && isObj(v)) {
      out.items = toStructural(v);
    } else if (k === 'anyOf' && Array.isArray(v)) {
      out.anyOf = v.map((x) => toStructural(x as Json));
    } else if (k === 'x-kubernetes-validations' && Array.isArray(v)) {
      out[k] = v.map((r) => Object.fromEntries(Object.entries(r as Json).filter(([, rv]) => rv !== undefined)));
    } else if (k === 'additionalProperties' && v === false) {
      // structural schemas forbid additionalProperties beside properties; unknown fields are pruned instead
    } else if (ALLOWED.has(k) || k.startsWith('x-kubernetes-')) {
      out[k] = v;
    } else {
      throw new Error(`keyword ${k} has no CRD equivalent`);
    }
  }
  return out;
}

interface CrdInput {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  schema: TSchema;
  columns?: Json[];
  /** With the scale subresource (servers; the declarative kinds have no replicas). */
  scale?: boolean;
}

/** The declarative kinds: whether the object can be served, by how many servers. */
const CATALOG_COLUMNS = [
  { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status' },
  { name: 'Served', type: 'string', jsonPath: '.status.conditions[?(@.type=="Served")].status' },
  { name: 'Servers', type: 'string', jsonPath: '.status.servers[*].name', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const PRINTER_COLUMNS = [
  { name: 'Status', type: 'string', jsonPath: '.status.phase' },
  { name: 'URL', type: 'string', jsonPath: '.status.url' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** MCPGateway: its phase and URL like a server's, and how many of its backends are ready. */
const MCPGATEWAY_COLUMNS = [
  ...PRINTER_COLUMNS.slice(0, 2),
  { name: 'Backends', type: 'string', jsonPath: '.status.conditions[?(@.type=="BackendsReady")].message' },
  ...PRINTER_COLUMNS.slice(2),
  // -o wide: whether the Ingress / HTTPRoute is admitted (its controller's word), and why not.
  { name: 'Exposed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Exposed")].status', priority: 1 },
  { name: 'Exposure', type: 'string', jsonPath: '.status.conditions[?(@.type=="Exposed")].message', priority: 1 },
];

function crd(input: CrdInput): Json {
  const openAPIV3Schema = toStructural(input.schema);
  // metadata is owned by the API server; the CRD schema only says it is an object.
  (openAPIV3Schema.properties as Json).metadata = { type: 'object' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${input.plural}.${GROUP}`,
      annotations: { 'ome.io/generated-from': 'api/v1beta1 (typebox) by scripts/gen-crds.ts — do not edit' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.singular,
        shortNames: input.shortNames,
        categories: ['ome', 'mcp'],
      },
      scope: input.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: input.columns ?? PRINTER_COLUMNS,
          subresources: {
            status: {},
            ...(input.scale === false ? {} : { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } }),
          },
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

export interface GeneratedCRD {
  /** File name under manifests/crds/. */
  file: string;
  object: Json;
}

export function generateCRDs(): GeneratedCRD[] {
  return [
    {
      file: `${GROUP}_${MCPSERVER_PLURAL}.yaml`,
      object: crd({ kind: MCPSERVER_KIND, plural: MCPSERVER_PLURAL, singular: 'mcpserver', shortNames: ['mcps'], scope: 'Namespaced', schema: MCPServer }),
    },
    {
      file: `${GROUP}_${CLUSTER_MCPSERVER_PLURAL}.yaml`,
      object: crd({
        kind: CLUSTER_MCPSERVER_KIND,
        plural: CLUSTER_MCPSERVER_PLURAL,
        singular: 'clustermcpserver',
        shortNames: ['cmcps'],
        scope: 'Cluster',
        schema: ClusterMCPServer,
      }),
    },
    {
      file: `${GROUP}_${MCPGATEWAY_PLURAL}.yaml`,
      object: crd({ kind: MCPGATEWAY_KIND, plural: MCPGATEWAY_PLURAL, singular: 'mcpgateway', shortNames: ['mcpgw'], scope: 'Namespaced', schema: MCPGateway, columns: MCPGATEWAY_COLUMNS }),
    },
    ...Object.entries(CATALOG_KINDS).map(([kind, k]) => ({
      file: `${GROUP}_${k.plural}.yaml`,
      object: crd({ kind, plural: k.plural, singular: k.singular, shortNames: [...k.shortNames], scope: 'Namespaced', schema: k.schema, columns: CATALOG_COLUMNS, scale: false }),
    })),
  ];
}

export function renderCRD(object: Json): string {
  return `# Generated by scripts/gen-crds.ts from api/v1beta1 — do not edit by hand.\n---\n${stringify(object, { lineWidth: 0 })}`;
}
