// The `ome-mcp-agent` executable. Starts the stdio server first (see upstream/prespawn.ts), then
// loads the agent itself: the two start in parallel instead of one after the other.
import nodeModule from 'node:module';
import { prespawnFromArgv } from './upstream/prespawn.js';

prespawnFromArgv(process.argv.slice(2), process.env);
// Node 22.1+ can keep the compiled code on disk so a restart skips compiling (~20 ms of start-up
// on Node 24): in NODE_COMPILE_CACHE (the image's, filled at build time) or the OS temp dir.
// Older Nodes lack it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
