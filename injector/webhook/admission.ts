/**
 * AdmissionReview v1 in, AdmissionReview v1 out: the pure part of the webhook. Validates the
 * review's shape (a malformed one is an HTTP 400 with a message that says what is wrong), runs the
 * shared pod mutation, and answers with a base64 JSONPatch, a denial or a plain "allowed".
 */
import { mutatePod, type InjectorSettings, type OptIn, type PodLike } from '../mutation/index.js';

export interface AdmissionAnswer {
  /** HTTP status: 200 for every well-formed review (denials included), 400 for a malformed one. */
  status: number;
  /** JSON body (an AdmissionReview) for 200, a plain-text message for 400. */
  body: string;
  /** For metrics and logs. */
  outcome: 'injected' | 'skipped' | 'denied' | 'ignored' | 'malformed';
  detail?: string;
  uid?: string;
  namespace?: string;
  name?: string;
}

interface AdmissionRequestShape {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  operation?: string;
  namespace?: string;
  name?: string;
  object?: unknown;
  dryRun?: boolean;
}

const MAX_WARNING = 256;

function bad(message: string): AdmissionAnswer {
  return { status: 400, body: `malformed AdmissionReview: ${message}\n`, outcome: 'malformed', detail: message };
}

/** Parses and answers one AdmissionReview (the request body as text). Never throws. */
export function reviewAdmission(text: string, optIn: OptIn, settings: InjectorSettings): AdmissionAnswer {
  let review: unknown;
  try {
    review = JSON.parse(text);
  } catch (err) {
    return bad(`body is not JSON (${(err as Error).message})`);
  }
  if (typeof review !== 'object' || review === null || Array.isArray(review)) return bad('body is not a JSON object');
  const r = review as Record<string, unknown>;
  if (r.apiVersion !== 'admission.k8s.io/v1') {
    return bad(`apiVersion must be admission.k8s.io/v1, got ${JSON.stringify(r.apiVersion)} (set admissionReviewVersions: [v1])`);
  }
  if (r.kind !== 'AdmissionReview') return bad(`kind must be AdmissionReview, got ${JSON.stringify(r.kind)}`);
  const req = r.request as AdmissionRequestShape | undefined;
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return bad('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') return bad('request.uid is missing');
  const uid = req.uid;
  const base = { uid, namespace: typeof req.namespace === 'string' ? req.namespace : undefined, name: typeof req.name === 'string' ? req.name : undefined };

  const isPod = req.kind?.group === '' && req.kind?.version === 'v1' && req.kind?.kind === 'Pod' && !req.subResource;
  if (!isPod || req.operation !== 'CREATE') {
    // Only pod creation is registered; anything else is answered "allowed, unchanged".
    return { ...base, status: 200, body: respond(uid, { allowed: true }), outcome: 'ignored', detail: `${req.kind?.kind ?? '?'} ${req.operation ?? '?'}` };
  }
  if (typeof req.object !== 'object' || req.object === null) return bad('request.object is missing');

  const result = mutatePod({ object: req.object as PodLike, optIn, settings });
  const warnings = result.warnings.map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w));
  if (!result.allowed) {
    const body = respond(uid, { allowed: false, status: { code: 400, reason: 'BadRequest', message: result.reason }, warnings });
    return { ...base, status: 200, body, outcome: 'denied', detail: result.reason };
  }
  if (result.outcome === 'skipped' || result.patch.length === 0) {
    return { ...base, status: 200, body: respond(uid, { allowed: true, warnings }), outcome: 'skipped', detail: result.outcome === 'skipped' ? result.reason : 'no change' };
  }
  const patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
  const body = respond(uid, { allowed: true, patchType: 'JSONPatch', patch, warnings });
  return { ...base, status: 200, body, outcome: 'injected', detail: result.upstream.kind };
}

function respond(uid: string, response: Record<string, unknown>): string {
  if (Array.isArray(response.warnings) && response.warnings.length === 0) delete response.warnings;
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } });
}
