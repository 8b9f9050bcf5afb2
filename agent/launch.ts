// The `ome-mcp-agent` executable. Starts the stdio server first (see upstream/prespawn.ts), then
// loads the agent itself: the two start in parallel instead of one after the other.
import { prespawnFromArgv } from './upstream/prespawn.js';

prespawnFromArgv(process.argv.slice(2), process.env);
await import('./main.js');
