// The `ome-mcp-agent` executable. Starts the stdio server first (see upstream/prespawn.ts), then
// loads the agent itself: the two start in parallel instead of one after the other.
import nodeModule from 'node:module';
import v8 from 'node:v8';
import { prespawnFromArgv } from './upstream/prespawn.js';

prespawnFromArgv(process.argv.slice(2), process.env);
// Memory (docs/benchmarks.md): V8 doubles the young generation under a burst of allocation (up to
// 16–32 MB a semi-space) and rarely gives it back, so 1,000 sessions opened in a burst looked like
// ~15 KB of RSS each while each holds ~1.3 KB of heap. A proxy's garbage dies young: a 1 MB
// semi-space costs no measurable CPU (A/B at 16 sessions: 212 vs 218 µs/call). V8 reads the flag
// when it grows the space, so setting it here works; a semi-space flag on the command line or in NODE_OPTIONS wins.
const SEMI_SPACE_FLAG = /--(semi[-_]space[-_]growth[-_]factor|max[-_]semi[-_]space[-_]size)/;
if (!process.execArgv.some((a) => SEMI_SPACE_FLAG.test(a)) && !SEMI_SPACE_FLAG.test(process.env.NODE_OPTIONS ?? '')) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
// Compiling the bundle is most of the agent's own start-up; Node 22.1+ can keep the compiled code
// on disk (NODE_COMPILE_CACHE or the OS temp dir) so a restart skips it. Older Nodes lack it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
