// core/v1 and meta/v1 types used by the MCPServer spec. Small ones (EnvVar, VolumeMount,
// Toleration, ResourceRequirements, Condition) are typed field by field so the API server
// validates them; large ones (Affinity, Volume, PodTemplateSpec) are preserved as-is by the
// CRD and validated by the API server when the reconciler applies the Deployment.
import { Type, type Static, type TSchema } from 'typebox';
import type { V1Affinity, V1PodTemplateSpec, V1Volume } from '@kubernetes/client-node';
import { Int64, Opaque, Quantity, StringEnum } from './schema.js';

const KeySelector = (what: string) =>
  Type.Object(
    {
      name: Type.Optional(Type.String({ description: `Name of the referent ${what}.` })),
      key: Type.String({ description: `The key of the ${what} to select from.` }),
      optional: Type.Optional(Type.Boolean()),
    },
    { 'x-kubernetes-map-type': 'atomic' },
  );

export const EnvVarSource = Type.Object({
  secretKeyRef: Type.Optional(KeySelector('Secret')),
  configMapKeyRef: Type.Optional(KeySelector('ConfigMap')),
  fieldRef: Type.Optional(
    Type.Object(
      { apiVersion: Type.Optional(Type.String()), fieldPath: Type.String() },
      { 'x-kubernetes-map-type': 'atomic' },
    ),
  ),
  resourceFieldRef: Type.Optional(
    Type.Object(
      {
        containerName: Type.Optional(Type.String()),
        divisor: Type.Optional(Quantity()),
        resource: Type.String(),
      },
      { 'x-kubernetes-map-type': 'atomic' },
    ),
  ),
});

export const EnvVar = Type.Object(
  {
    name: Type.String({ description: 'Name of the environment variable.' }),
    value: Type.Optional(Type.String()),
    valueFrom: Type.Optional(EnvVarSource),
  },
  { description: 'EnvVar represents an environment variable present in a Container (core/v1).' },
);
export type EnvVar = Static<typeof EnvVar>;

export const VolumeMount = Type.Object(
  {
    name: Type.String({ description: 'This must match the Name of a Volume.' }),
    mountPath: Type.String(),
    readOnly: Type.Optional(Type.Boolean()),
    recursiveReadOnly: Type.Optional(Type.String()),
    subPath: Type.Optional(Type.String()),
    subPathExpr: Type.Optional(Type.String()),
    mountPropagation: Type.Optional(Type.String()),
  },
  { description: 'VolumeMount describes a mounting of a Volume within a container (core/v1).' },
);
export type VolumeMount = Static<typeof VolumeMount>;

export const Toleration = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(Type.String()),
  tolerationSeconds: Type.Optional(Int64()),
});
export type Toleration = Static<typeof Toleration>;

export const ResourceList = Type.Record(Type.String(), Quantity());

export const ResourceRequirements = Type.Object({
  limits: Type.Optional(ResourceList),
  requests: Type.Optional(ResourceList),
  claims: Type.Optional(
    Type.Array(
      Type.Object({ name: Type.String(), request: Type.Optional(Type.String()) }),
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
  ),
});
export type ResourceRequirements = Static<typeof ResourceRequirements>;

export const Affinity = Opaque<V1Affinity>({ description: 'core/v1 Affinity; validated by the API server on the Deployment.' });
export type Affinity = V1Affinity;

export const Volume = Type.Unsafe<V1Volume>({
  type: 'object',
  description: 'core/v1 Volume; validated by the API server on the Deployment.',
  required: ['name'],
  properties: { name: { type: 'string' } },
  'x-kubernetes-preserve-unknown-fields': true,
});
export type Volume = V1Volume;

export const PodTemplateSpec = Opaque<V1PodTemplateSpec>({
  description:
    'core/v1 PodTemplateSpec merged over the generated pod template (containers merged by name; the server container is `mcp`).',
});
export type PodTemplateSpec = V1PodTemplateSpec;

/** meta/v1 Condition, as controller-gen renders it. */
export const Condition = Type.Object({
  type: Type.String({
    maxLength: 316,
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
  }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  observedGeneration: Type.Optional(Int64({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
});
export type Condition = Static<typeof Condition>;


/** meta/v1 LabelSelector (matchLabels ANDed with matchExpressions). */
export const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String(), { 'x-kubernetes-map-type': 'atomic' })),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object({
          key: Type.String({ minLength: 1 }),
          operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
          values: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'atomic' })),
        }),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
    ),
  },
  { description: 'A label selector (an empty selector selects every object).', 'x-kubernetes-map-type': 'atomic' },
);
export type LabelSelector = Static<typeof LabelSelector>;

/** The subset of ObjectMeta this project reads (the API server owns the real schema). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<Record<string, unknown>>;
}

/** `metadata` of a top-level object: its schema is the API server's, its type the subset above. */
export const Metadata = Type.Unsafe<ObjectMeta>({ type: 'object' });

/** A top-level API object: the envelope every kind shares around its spec and status. */
export function TopLevelObject<Spec extends TSchema, Status extends TSchema>(spec: Spec, status: Status, options: Record<string, unknown>) {
  return Type.Object(
    {
      apiVersion: Type.Optional(Type.String()),
      kind: Type.Optional(Type.String()),
      metadata: Type.Optional(Metadata),
      spec,
      status: Type.Optional(status),
    },
    options,
  );
}
