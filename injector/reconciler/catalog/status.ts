// A declarative object's status: Valid (its own spec and references resolve and pass the catalog
// checks) and Served (some server serves it; else why not), the servers serving it, the
// generation observed. Pure; transition times are kept while a condition's status stays.
import type { CatalogItemStatus, CatalogServerRef } from '../../../api/v1beta1/catalog.js';
import type { Condition } from '../../../api/v1beta1/core.js';
import { CLUSTER_MCPSERVER_KIND } from '../../../api/v1beta1/mcpserver.js';
import { parseKey } from '../names.js';
import type { ItemProblem } from './items.js';
import type { Verdict } from './resolve.js';

export const CONDITION_VALID = 'Valid';
export const CONDITION_SERVED = 'Served';

export interface ItemStatusInput {
  generation: number;
  problems: ItemProblem[];
  /** Each server's verdict on the object (serving.ts). */
  verdicts: { server: string; verdict: Verdict }[];
  previous?: CatalogItemStatus;
  now: Date;
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function cond(prev: Condition[] | undefined, type: string, status: 'True' | 'False', reason: string, message: string, generation: number, now: Date): Condition {
  const old = prev?.find((c) => c.type === type);
  return { type, status, reason, message: message.slice(0, 32768), observedGeneration: generation, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : stamp(now) };
}

function serverRef(key: string): CatalogServerRef {
  const { kind, namespace, name } = parseKey(key);
  return kind === CLUSTER_MCPSERVER_KIND ? { kind, name } : { kind, namespace, name };
}

const display = (key: string) => {
  const r = serverRef(key);
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
};

export function deriveItemStatus(input: ItemStatusInput): CatalogItemStatus {
  const { generation: g, now } = input;
  const prev = input.previous?.conditions;
  const valid = input.problems.length === 0;
  const serving = input.verdicts.filter((v) => v.verdict.served).map((v) => v.server);
  const conflicts = input.verdicts.flatMap((v) => (!v.verdict.served && v.verdict.reason === 'NameConflict' ? [`${display(v.server)} serves ${v.verdict.winner} under the same name`] : []));
  const served = serving.length
    ? cond(prev, CONDITION_SERVED, 'True', 'Served', `served by ${serving.map(display).join(', ')}${conflicts.length ? `; not by ${conflicts.join('; ')}` : ''}`, g, now)
    : !valid
      ? cond(prev, CONDITION_SERVED, 'False', 'Invalid', 'not served: the spec is not valid (see Valid)', g, now)
      : conflicts.length
        ? cond(prev, CONDITION_SERVED, 'False', 'NameConflict', `not served: ${conflicts.join('; ')}`, g, now)
        : cond(prev, CONDITION_SERVED, 'False', 'NoServer', 'no server selects it', g, now);
  return {
    conditions: [
      valid
        ? cond(prev, CONDITION_VALID, 'True', 'Valid', 'resolved and valid', g, now)
        : cond(prev, CONDITION_VALID, 'False', input.problems[0]!.reason, input.problems.map((p) => p.message).join('; '), g, now),
      served,
    ],
    servers: serving.map(serverRef),
    observedGeneration: g,
  };
}

export function itemStatusEqual(a: CatalogItemStatus | undefined, b: CatalogItemStatus | undefined): boolean {
  if (!a || !b) return a === b;
  const norm = (s: CatalogItemStatus) => JSON.stringify({ ...s, conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)), servers: s.servers ?? [] });
  return norm(a) === norm(b);
}
