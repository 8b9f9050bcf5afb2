// Policy changes reach running pods without a restart. The reconciler rewrites the agent's
// ConfigMap; the kubelet rewrites a mounted ConfigMap only when it next syncs the pod, which can
// take a minute or more (its sync period plus the ConfigMap cache). Any update of the pod starts
// that sync at once, so each pod is annotated with the hash of the reloadable config it should run:
// the file changes within seconds and the agent swaps its policy in place (agent/config/reload.ts).
import type { V1Pod } from '@kubernetes/client-node';
import { splitReloadable, type AgentConfig } from '../../api/agent-config.js';
import type { KubeClient } from './client.js';
import type { Logger } from './kit/types.js';
import { shortHash } from './names.js';

/** Pod annotation: hash of the reloadable agent config (policy, filters, OIDC) the pod was told about. */
export const ANNOTATION_POLICY_HASH = 'mcp.ome.io/policy-hash';

export const policyConfigHash = (config: AgentConfig) => shortHash(JSON.stringify(splitReloadable(config).reloadable), 16);

/**
 * Annotates the pods that have not been told about `config` yet — nor about `files`, the version
 * of a mounted Secret the agent reads at run time (the catalog Secret). Best effort: a failed patch
 * only delays the reload to the kubelet's own sync.
 */
export async function nudgePods(client: KubeClient, pods: readonly V1Pod[], config: AgentConfig, log: Logger, files?: string): Promise<number> {
  const hash = files ? shortHash(`${policyConfigHash(config)}/${files}`, 16) : policyConfigHash(config);
  const stale = pods.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.annotations?.[ANNOTATION_POLICY_HASH] !== hash);
  const results = await Promise.allSettled(
    stale.map((p) => client.mergePatch('Pod', p.metadata!.name!, p.metadata!.namespace, { metadata: { annotations: { [ANNOTATION_POLICY_HASH]: hash } } })),
  );
  results.forEach((r, i) => {
    if (r.status === 'rejected') log.warn({ pod: stale[i]!.metadata?.name, err: (r.reason as Error).message }, 'could not annotate pod for a config reload; the kubelet will deliver the change on its next sync');
  });
  return results.filter((r) => r.status === 'fulfilled').length;
}
