/**
 * Sealed 2025 session ids: what a replica needs to serve a session — negotiated revision, the
 * client's capabilities and name, the principal it is bound to — encrypted and authenticated
 * (AES-256-GCM) into the `Mcp-Session-Id` itself, under a key the replicas share. Any replica can
 * then continue a session another one started (or a previous process of its own), so a pod
 * deletion or a rollout loses no session and the Service needs no affinity (agentgateway's
 * approach). Several keys are tried in order: the current one seals, earlier ones still open
 * ids sealed before a rotation.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { ClientCapabilities } from '../mux/client-session.js';

export interface SessionState {
  /** Negotiated protocol revision. */
  version: string;
  /** The principal the session is bound to (its key). */
  principal: string;
  /** The client's capabilities, reduced to what routing needs (which server requests it takes). */
  capabilities: ClientCapabilities;
  clientInfo: { name: string; version: string };
  /** The replica that started it (`http://<pod IP>:<port>`), when replicas can reach each other. */
  owner?: string;
  /** When it was sealed, epoch ms. */
  issuedAt: number;
}

const PREFIX = 's1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Sealed ids older than this are not resumed: the client initializes again. */
export const MAX_RESUME_AGE_MS = 24 * 60 * 60 * 1000;

export class SessionSealer {
  private readonly keys: Buffer[];

  /** `secrets`: the current state key first, then earlier ones. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('a session sealer needs a key');
    // Its own key, derived: the same state key also signs 2026-07-28 requestState.
    this.keys = secrets.map((s) => createHash('sha256').update('ome-mcp session id\u0000').update(s).digest());
  }

  seal(state: SessionState): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(compact(state)), 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The state, or undefined for anything not sealed by one of the keys (or too old). */
  unseal(id: string, now = Date.now()): SessionState | undefined {
    if (!id.startsWith(PREFIX) || id.length > 4096) return undefined;
    const raw = Buffer.from(id.slice(PREFIX.length), 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        const state = expand(JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')));
        return state && now - state.issuedAt <= MAX_RESUME_AGE_MS ? state : undefined;
      } catch {
        // not this key
      }
    }
    return undefined;
  }
}

type Compact = { v: string; p: string; c: (string | [string, unknown])[]; n: string; r: string; t: number; o?: string };

/** Short field names and capability presence only: the id travels in a header on every request. */
function compact(s: SessionState): Compact {
  const caps = Object.entries(s.capabilities).map(([k, v]) => (k === 'roots' && v && typeof v === 'object' ? ([k, { listChanged: (v as { listChanged?: unknown }).listChanged === true }] as [string, unknown]) : k));
  return { v: s.version, p: s.principal, c: caps, n: s.clientInfo.name.slice(0, 64), r: s.clientInfo.version.slice(0, 32), t: s.issuedAt, ...(s.owner ? { o: s.owner } : {}) };
}

function expand(c: Compact): SessionState | undefined {
  if (typeof c?.v !== 'string' || typeof c.p !== 'string' || !Array.isArray(c.c) || typeof c.t !== 'number') return undefined;
  const capabilities: ClientCapabilities = {};
  for (const e of c.c) {
    if (typeof e === 'string') capabilities[e] = {};
    else if (Array.isArray(e) && typeof e[0] === 'string') capabilities[e[0]] = e[1];
  }
  return { version: c.v, principal: c.p, capabilities, clientInfo: { name: String(c.n ?? 'client'), version: String(c.r ?? '0') }, issuedAt: c.t, ...(typeof c.o === 'string' ? { owner: c.o } : {}) };
}
