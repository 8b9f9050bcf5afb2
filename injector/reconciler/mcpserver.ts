// The MCPServer reconciler: namespaced; its objects carry an owner reference, so the garbage
// collector deletes them with it.
import { MCPSERVER_KIND } from '../../api/v1beta1/mcpserver.js';
import type { Result } from './kit/types.js';
import { parseKey } from './names.js';
import { ServerReconciler, type Server, type ServerDeps } from './servers.js';
import type { Cached } from './kit/types.js';

export class MCPServerReconciler extends ServerReconciler {
  constructor(cache: Cached<Server>, d: ServerDeps) {
    super(MCPSERVER_KIND, cache, d);
  }

  async reconcile(key: string): Promise<Result> {
    const { namespace, name } = parseKey(key);
    const server = this.cache.get(name, namespace);
    if (!server) {
      this.forget(key);
      return {};
    }
    const owner = { kind: MCPSERVER_KIND, name, uid: server.metadata.uid! };
    return this.reconcileServer(key, server, { kind: MCPSERVER_KIND, name, namespace }, owner);
  }
}
