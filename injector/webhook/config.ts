/**
 * The MutatingWebhookConfiguration, as code: the manifests in manifests/ carry the same settings
 * (a unit test compares them) and the k8s tests register it with a loopback URL.
 *
 * Two webhook entries, because a webhook's namespaceSelector and objectSelector are ANDed and an
 * objectSelector sees labels only, so "namespace label OR pod annotation" cannot be one entry:
 * - `namespace.inject.mcp.ome.io`: namespaces labelled mcp.ome.io/injection=enabled. Every pod
 *   created there is sent; the handler injects MCP server pods unless annotated inject "false".
 *   failurePolicy Fail: in a namespace that asked for agents, a pod must not start without its
 *   agent (it would run without authentication or policy).
 * - `pod.inject.mcp.ome.io`: every other namespace except the system ones, the injector's own and
 *   namespaces labelled mcp.ome.io/injection=disabled. The handler injects only pods annotated
 *   mcp.ome.io/inject: "true". failurePolicy Ignore: this entry sees pods that never asked for
 *   anything, and an injector outage must not stop the cluster creating pods.
 * Both: CREATE of pods only (the pod spec is immutable where it matters), sideEffects None (the
 * handler writes nothing, so dry-run requests are fine), timeoutSeconds 5 (admission takes
 * milliseconds; a hung injector should fail fast rather than stall controllers for the default
 * 10 s), reinvocationPolicy IfNeeded (if a later webhook changes the pod, ours runs again and,
 * being idempotent, changes nothing or fixes up), matchPolicy Equivalent.
 */
import type { V1MutatingWebhook, V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { NAMESPACE_INJECTION_ENABLED, NAMESPACE_INJECTION_LABEL } from '../../api/annotations.js';
import { NAMESPACE_PATH, POD_PATH } from './server.js';

export const WEBHOOK_CONFIGURATION_NAME = 'ome-mcp-injector';
export const NAMESPACE_WEBHOOK_NAME = 'namespace.inject.mcp.ome.io';
export const POD_WEBHOOK_NAME = 'pod.inject.mcp.ome.io';
export const NAMESPACE_INJECTION_DISABLED = 'disabled';
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];
export const WEBHOOK_TIMEOUT_SECONDS = 5;

export interface WebhookConfigOptions {
  name?: string;
  /** Where the API server reaches the webhook: a Service (in-cluster) or a URL (tests). */
  target: { service: { name: string; namespace: string; port?: number } } | { url: string };
  caBundle?: string;
  /** The injector's namespace, excluded from the pod-annotation entry. */
  injectorNamespace: string;
}

export function buildWebhookConfiguration(o: WebhookConfigOptions): V1MutatingWebhookConfiguration {
  const client = (path: string): V1MutatingWebhook['clientConfig'] => {
    const caBundle = o.caBundle ? { caBundle: o.caBundle } : {};
    if ('url' in o.target) return { url: `${o.target.url.replace(/\/$/, '')}${path}`, ...caBundle };
    const { name, namespace, port } = o.target.service;
    return { service: { name, namespace, path, port: port ?? 443 }, ...caBundle };
  };
  const common = () => ({
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    reinvocationPolicy: 'IfNeeded',
    matchPolicy: 'Equivalent',
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: o.name ?? WEBHOOK_CONFIGURATION_NAME, labels: { 'app.kubernetes.io/name': 'ome-mcp-injector', 'app.kubernetes.io/part-of': 'ome-mcp' } },
    webhooks: [
      {
        name: NAMESPACE_WEBHOOK_NAME,
        clientConfig: client(NAMESPACE_PATH),
        failurePolicy: 'Fail',
        namespaceSelector: { matchExpressions: [{ key: NAMESPACE_INJECTION_LABEL, operator: 'In', values: [NAMESPACE_INJECTION_ENABLED] }] },
        ...common(),
      },
      {
        name: POD_WEBHOOK_NAME,
        clientConfig: client(POD_PATH),
        failurePolicy: 'Ignore',
        namespaceSelector: {
          matchExpressions: [
            { key: NAMESPACE_INJECTION_LABEL, operator: 'NotIn', values: [NAMESPACE_INJECTION_ENABLED, NAMESPACE_INJECTION_DISABLED] },
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...SYSTEM_NAMESPACES, o.injectorNamespace] },
          ],
        },
        ...common(),
      },
    ],
  };
}
