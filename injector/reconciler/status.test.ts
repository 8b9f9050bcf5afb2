import { describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import { deriveStatus, podProblem, statusEqual, viewDeployment } from './status.js';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:05:00Z');
const dep = (status: V1Deployment['status'], generation = 1): V1Deployment => ({ metadata: { generation }, status: { observedGeneration: generation, ...status } });
const available = (s: 'True' | 'False') => ({ type: 'Available', status: s, reason: s === 'True' ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' });
const base = { generation: 3, deleting: false, problems: [], desiredReplicas: 2, url: 'http://mcp-a.ns.svc.cluster.local:8080/mcp', now };

describe('viewDeployment', () => {
  it('Pending without a Deployment', () => expect(viewDeployment(undefined, 1).phase).toBe('Pending'));
  it('Starting while no replica is available', () => {
    expect(viewDeployment(dep({ replicas: 2, updatedReplicas: 2, availableReplicas: 0 }), 2).phase).toBe('Starting');
  });
  it('Running when all desired replicas are available and updated', () => {
    expect(viewDeployment(dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [available('True')] }), 2).phase).toBe('Running');
  });
  it('Updating during a rollout with old replicas serving', () => {
    expect(viewDeployment(dep({ replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 }), 2).phase).toBe('Updating');
    expect(viewDeployment(dep({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 2), 2).phase).toBe('Running');
    // the controller has not seen the new generation yet
    expect(viewDeployment({ metadata: { generation: 3 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } }, 2, 'Running').phase).toBe('Updating');
  });
  it('Failed when the progress deadline is exceeded or replicas fail', () => {
    expect(viewDeployment(dep({ conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }] }), 1)).toMatchObject({ phase: 'Failed', message: 'too slow' });
    expect(viewDeployment(dep({ conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' }] }), 1)).toMatchObject({ phase: 'Failed', message: 'quota' });
  });
  it('scaled to zero is Pending', () => expect(viewDeployment(dep({ replicas: 0 }), 0).phase).toBe('Pending'));
});

describe('deriveStatus', () => {
  it('fills url, observedGeneration, replicas and the three conditions', () => {
    const s = deriveStatus({ ...base, deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [available('True')] }) });
    expect(s).toMatchObject({ phase: 'Running', url: base.url, observedGeneration: 3, replicas: 2, readyReplicas: 2, lastUpdateTime: '2026-01-01T00:00:00Z' });
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Running'],
      ['ConfigValid', 'True', 'Valid'],
      ['DeploymentAvailable', 'True', 'MinimumReplicasAvailable'],
    ]);
  });

  it('invalid config: Failed, ConfigValid=False with the problems, Ready=False', () => {
    const s = deriveStatus({ ...base, problems: ['spec.secrets[0]: Secret ns/db not found'] });
    expect(s.phase).toBe('Failed');
    expect(s.message).toBe('spec.secrets[0]: Secret ns/db not found');
    expect(s.conditions?.find((c) => c.type === 'ConfigValid')).toMatchObject({ status: 'False', reason: 'InvalidConfig', message: 'spec.secrets[0]: Secret ns/db not found' });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidConfig' });
    expect(s.conditions?.find((c) => c.type === 'DeploymentAvailable')).toMatchObject({ status: 'False', reason: 'DeploymentNotFound' });
  });

  it('Terminating while deleting', () => expect(deriveStatus({ ...base, deleting: true }).phase).toBe('Terminating'));

  it('is stable: the same observation yields an equal status with the old times', () => {
    const d = dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [available('True')] });
    const first = deriveStatus({ ...base, deployment: d });
    const second = deriveStatus({ ...base, deployment: d, previous: first, now: later });
    expect(statusEqual(first, second)).toBe(true);
    expect(second).toEqual(first);
  });

  it('keeps a condition transition time until its status changes', () => {
    const starting = deriveStatus({ ...base, deployment: dep({ replicas: 2, updatedReplicas: 2 }) });
    const running = deriveStatus({
      ...base,
      deployment: dep({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [available('True')] }),
      previous: starting,
      now: later,
    });
    const t = (s: typeof running, type: string) => s.conditions?.find((c) => c.type === type)?.lastTransitionTime;
    expect(t(running, 'ConfigValid')).toBe(t(starting, 'ConfigValid'));
    expect(t(running, 'Ready')).toBe('2026-01-01T00:05:00Z');
    expect(running.lastUpdateTime).toBe('2026-01-01T00:05:00Z');
  });
});

describe('status from pod state', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const deployment = { metadata: { generation: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 } };
  const crashing = {
    metadata: { name: 'mcp-x-abc' },
    status: {
      initContainerStatuses: [{ name: 'mcp-agent', ready: true, restartCount: 0, image: 'a', imageID: '', state: { running: {} } }],
      containerStatuses: [
        {
          name: 'mcp',
          ready: false,
          restartCount: 4,
          image: 's',
          imageID: '',
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 3, reason: 'Error', message: 'boom' } },
        },
      ],
    },
  };

  it('names the container, its waiting reason, restarts and last exit when pods are not ready', () => {
    const s = deriveStatus({ generation: 1, deleting: false, problems: [], deployment, pods: [crashing], desiredReplicas: 1, url: 'u', now });
    expect(s.phase).toBe('Failed');
    expect(s.message).toBe('pod mcp-x-abc, container mcp: CrashLoopBackOff (back-off 40s restarting failed container), 4 restarts; last exit code 3 (Error): boom');
    const ready = s.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainerFailing' });
  });

  it('keeps Starting while containers are only being created', () => {
    const creating = { metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'mcp', ready: false, restartCount: 0, image: 's', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }] } };
    const s = deriveStatus({ generation: 1, deleting: false, problems: [], deployment, pods: [creating], desiredReplicas: 1, url: 'u', now });
    expect(s.phase).toBe('Starting');
    expect(podProblem([creating])).toBeUndefined();
  });
});
