import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * Start-up overlap: the launcher (agent/launch.ts) starts the stdio server before the agent's
 * own code has loaded, so the two boot in parallel (on Node 20 each takes ~0.2 s). The first
 * StdioUpstream for the same command adopts the child; anything not adopted is killed.
 * Kept free of other imports: the launcher loads this module before everything else.
 */
interface Prespawned {
  command: string;
  args: string[];
  child: ChildProcessWithoutNullStreams;
  spawned: Promise<void>;
}

let waiting: Prespawned | undefined;

/** Flags after which the launcher must not guess: another upstream, a terminal, a process per session. */
const NO_PRESPAWN = /^--(help|version|tty|upstream|upstream-fifo|upstream-attach|session-mode)(=|$)|^-h$/;

/** Called by the launcher with the raw argv: starts `<command> [args…]` after `--` when that is surely the upstream. */
export function prespawnFromArgv(argv: string[], env: NodeJS.ProcessEnv): void {
  discardPrespawned();
  const dashdash = argv.indexOf('--');
  if (dashdash === -1 || dashdash === argv.length - 1) return;
  if (argv.slice(0, dashdash).some((a) => NO_PRESPAWN.test(a))) return;
  if (env.OME_MCP_SESSION_MODE === 'per-session' || env.OME_MCP_TTY === 'true' || env.OME_MCP_TTY === '1') return;
  const [command, ...args] = argv.slice(dashdash + 1) as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  spawned.catch(() => {}); // reported by the adopter
  waiting = { command, args, child, spawned };
  process.once('exit', discardPrespawned);
}

/** The prespawned child for exactly this command line, if there is one and it is still running. */
export function adoptPrespawned(command: string, args: string[]): Prespawned | undefined {
  const p = waiting;
  if (!p || p.command !== command || p.args.length !== args.length || p.args.some((a, i) => a !== args[i])) return undefined;
  waiting = undefined;
  if (p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
  return p;
}

/** Kills a prespawned child nobody adopted (the options turned out to want something else). */
export function discardPrespawned(): void {
  waiting?.child.kill('SIGKILL');
  waiting = undefined;
}
