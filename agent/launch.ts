// The `ome-mcp-agent` executable. Starts the stdio server first (see upstream/prespawn.ts), then
// loads the agent itself: the two start in parallel instead of one after the other.
import nodeModule from 'node:module';
import { prespawnFromArgv } from './upstream/prespawn.js';

prespawnFromArgv(process.argv.slice(2), process.env);
// Compiling the bundle is most of the agent's own start-up; Node 22.1+ can keep the compiled code
// on disk (NODE_COMPILE_CACHE or the OS temp dir) so a restart skips it. Older Nodes lack it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
