// Status derivation: a pure function of the server, the config verdict and the Deployment's real
// status. Transition times are kept when a condition's status does not change, so re-running it
// writes nothing new (status writes are skipped when equal).
import type { V1ContainerStatus, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Condition } from '../../api/v1beta1/core.js';
import type { MCPServerPhase, MCPServerStatus } from '../../api/v1beta1/mcpserver.js';

export const CONDITION_READY = 'Ready';
export const CONDITION_CONFIG_VALID = 'ConfigValid';
export const CONDITION_DEPLOYMENT_AVAILABLE = 'DeploymentAvailable';

export interface StatusInput {
  generation: number;
  deleting: boolean;
  /** Problems that keep the config from being deployed; empty when valid. */
  problems: string[];
  /** Reason for ConfigValid=False (InvalidConfig, ApplyRejected, …). */
  problemReason?: string;
  deployment?: V1Deployment;
  /** The Deployment's pods: why they are not ready is what the user needs to read. */
  pods?: V1Pod[];
  desiredReplicas: number;
  url: string;
  /** Label selector of the server's pods, as a string (`k=v,k2=v2`). */
  selector?: string;
  previous?: MCPServerStatus;
  now: Date;
}

export type CondStatus = 'True' | 'False' | 'Unknown';

/** A condition whose transition time is kept while its status stays (so an unchanged status writes nothing). */
export function cond(prev: Condition[] | undefined, type: string, status: CondStatus, reason: string, message: string, generation: number, now: Date): Condition {
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message: message.slice(0, 32768),
    observedGeneration: generation,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

interface DeploymentView {
  phase: MCPServerPhase;
  available: CondStatus;
  availableReason: string;
  message: string;
  replicas: number;
  ready: number;
}

export function viewDeployment(d: V1Deployment | undefined, desired: number, previousPhase?: MCPServerPhase): DeploymentView {
  if (!d) return { phase: 'Pending', available: 'False', availableReason: 'DeploymentNotFound', message: 'waiting for the Deployment to be created', replicas: 0, ready: 0 };
  const st = d.status ?? {};
  const replicas = st.replicas ?? 0;
  const ready = st.readyReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  const conds = st.conditions ?? [];
  const progressing = conds.find((c) => c.type === 'Progressing');
  const availCond = conds.find((c) => c.type === 'Available');
  const failure = conds.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const availStatus: CondStatus = availCond ? (availCond.status as CondStatus) : 'Unknown';
  const availReason = availCond?.reason ?? 'Unknown';
  const base = { available: availStatus, availableReason: availReason, replicas, ready };
  const observed = (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);

  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { ...base, phase: 'Failed', message: progressing.message ?? 'Deployment exceeded its progress deadline' };
  }
  if (failure) return { ...base, phase: 'Failed', message: failure.message ?? 'replica failure' };
  if (desired === 0) {
    return { ...base, phase: replicas === 0 ? 'Pending' : 'Updating', message: replicas === 0 ? 'scaled to 0 replicas' : 'scaling down to 0' };
  }
  const rolledOut = observed && updated >= desired && replicas <= desired;
  if (rolledOut && available >= desired) return { ...base, phase: 'Running', message: `${ready}/${desired} replicas ready` };
  const wasUp = previousPhase === 'Running' || previousPhase === 'Updating';
  if (available > 0 && (wasUp || !rolledOut)) return { ...base, phase: 'Updating', message: `rolling out: ${updated}/${desired} updated, ${available} available` };
  return { ...base, phase: 'Starting', message: `${ready}/${desired} replicas ready` };
}

/** Waiting reasons that do not go away by waiting: the server is Failed until something changes. */
const FATAL_WAITING = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export interface PodProblem {
  /** Condition reason: ContainerFailing (fatal), ContainerWaiting, ContainerNotReady, PodUnschedulable. */
  reason: string;
  fatal: boolean;
  message: string;
}

/**
 * The first thing keeping a server's pods from being ready, named by pod and container with the
 * kubelet's own words: waiting reason, restart count, the last termination's exit code and message.
 */
export function podProblem(pods: V1Pod[]): PodProblem | undefined {
  const found: PodProblem[] = [];
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? 'pod';
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unschedulable) found.push({ reason: 'PodUnschedulable', fatal: false, message: `pod ${name}: ${unschedulable.message ?? 'not scheduled'}` });
    const statuses: V1ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const cs of statuses) {
      const waiting = cs.state?.waiting;
      const last = cs.lastState?.terminated ?? cs.state?.terminated;
      const lastText = last ? `; last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}${last.message ? `: ${last.message.trim().slice(0, 512)}` : ''}` : '';
      const restarts = cs.restartCount ? `, ${cs.restartCount} restarts` : '';
      if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
        const fatal = FATAL_WAITING.has(waiting.reason);
        found.push({
          reason: fatal ? 'ContainerFailing' : 'ContainerWaiting',
          fatal,
          message: `pod ${name}, container ${cs.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message.slice(0, 256)})` : ''}${restarts}${lastText}`,
        });
      } else if (cs.state?.running && cs.ready === false && cs.started !== false && (cs.restartCount ?? 0) > 0) {
        found.push({ reason: 'ContainerNotReady', fatal: false, message: `pod ${name}, container ${cs.name}: running but not ready${restarts}${lastText}` });
      }
    }
  }
  return found.find((p) => p.fatal) ?? found[0];
}

export function deriveStatus(input: StatusInput): MCPServerStatus {
  const prevConds = input.previous?.conditions;
  const g = input.generation;
  const dv = viewDeployment(input.deployment, input.desiredReplicas, input.previous?.phase);
  const invalid = input.problems.length > 0;
  let phase: MCPServerPhase;
  let message: string;
  if (input.deleting) {
    phase = 'Terminating';
    message = 'deleting';
  } else if (invalid) {
    phase = 'Failed';
    message = input.problems.join('; ');
  } else {
    phase = dv.phase;
    message = dv.message;
  }
  // Counts say that pods are not ready; the pods say why.
  const problem = !input.deleting && !invalid && phase !== 'Running' ? podProblem(input.pods ?? []) : undefined;
  if (problem) {
    if (problem.fatal) phase = 'Failed';
    message = problem.message;
  }
  const conditions: Condition[] = [
    cond(
      prevConds,
      CONDITION_READY,
      !input.deleting && !invalid && phase === 'Running' ? 'True' : 'False',
      input.deleting ? 'Terminating' : invalid ? (input.problemReason ?? 'InvalidConfig') : phase === 'Running' ? 'Running' : (problem?.reason ?? phase),
      message,
      g,
      input.now,
    ),
    cond(
      prevConds,
      CONDITION_CONFIG_VALID,
      invalid ? 'False' : 'True',
      invalid ? (input.problemReason ?? 'InvalidConfig') : 'Valid',
      invalid ? input.problems.join('; ') : 'configuration resolved and valid',
      g,
      input.now,
    ),
    cond(
      prevConds,
      CONDITION_DEPLOYMENT_AVAILABLE,
      input.deployment ? dv.available : 'False',
      input.deployment ? dv.availableReason : 'DeploymentNotFound',
      input.deployment ? `${dv.ready}/${input.desiredReplicas} replicas ready` : 'the Deployment does not exist',
      g,
      input.now,
    ),
  ];
  const status: MCPServerStatus = {
    phase,
    message,
    url: input.url,
    observedGeneration: g,
    replicas: dv.replicas,
    readyReplicas: dv.ready,
    ...(input.selector ? { selector: input.selector } : {}),
    conditions,
  };
  status.lastUpdateTime = updateTime(status, input.previous, input.now);
  return status;
}

/** `previous`'s lastUpdateTime when nothing else changed, else now. */
export function updateTime<S extends MCPServerStatus>(status: S, previous: S | undefined, now: Date): string {
  return statusEqual(status, previous) && previous?.lastUpdateTime ? previous.lastUpdateTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Equal apart from lastUpdateTime (transition times are already carried over). */
export function statusEqual(a: MCPServerStatus | undefined, b: MCPServerStatus | undefined): boolean {
  if (!a || !b) return a === b;
  const strip = (s: MCPServerStatus) => JSON.stringify({ ...s, lastUpdateTime: undefined, conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)) });
  return strip(a) === strip(b);
}
