// An MCPGateway's status: what an MCPServer's says of its Deployment (Ready, ConfigValid,
// DeploymentAvailable, phase, url, replicas: status.ts), plus its backends and BackendsReady.
import type { MCPGatewayBackendStatus, MCPGatewayStatus } from '../../../api/v1beta1/mcpgateway.js';
import { CONDITION_EXPOSED } from '../../../api/v1beta1/exposure.js';
import type { ExposureView } from '../exposure.js';
import { cond, deriveStatus, updateTime, type StatusInput } from '../status.js';

export const CONDITION_BACKENDS_READY = 'BackendsReady';

export interface MCPGatewayStatusInput extends StatusInput {
  backends: MCPGatewayBackendStatus[];
  /** With spec.ingress or spec.httpRoute: the Exposed condition (its url is already the status url). */
  exposed?: ExposureView;
  previous?: MCPGatewayStatus;
}

/** `2/3 ready; memory: MCPServer ns/memory not found` (the column shows it; the first reason is the one to read). */
function backendsMessage(backends: MCPGatewayBackendStatus[]): string {
  const down = backends.filter((b) => !b.ready);
  const head = `${backends.length - down.length}/${backends.length} ready`;
  return down.length ? `${head}; ${down.map((b) => `${b.name}: ${b.message ?? 'not ready'}`).join('; ')}` : head;
}

export function deriveMCPGatewayStatus(input: MCPGatewayStatusInput): MCPGatewayStatus {
  const base = deriveStatus(input);
  const { backends } = input;
  const allReady = backends.length > 0 && backends.every((b) => b.ready);
  const reason = backends.length === 0 ? 'NoBackends' : allReady ? 'AllReady' : 'BackendNotReady';
  const message = backends.length === 0 ? 'no backends: the selector matches no MCPServer and backends[] names none that exists' : backendsMessage(backends);
  const status: MCPGatewayStatus = {
    ...base,
    conditions: [
      ...(base.conditions ?? []),
      cond(input.previous?.conditions, CONDITION_BACKENDS_READY, allReady ? 'True' : 'False', reason, message, input.generation, input.now),
      ...(input.exposed ? [cond(input.previous?.conditions, CONDITION_EXPOSED, input.exposed.status, input.exposed.reason, input.exposed.message, input.generation, input.now)] : []),
    ],
    backends,
  };
  status.lastUpdateTime = updateTime(status, input.previous, input.now);
  return status;
}
