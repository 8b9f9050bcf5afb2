import { afterEach, describe, expect, it } from 'vitest';
import { adoptPrespawned, discardPrespawned, prespawnFromArgv } from './prespawn.js';

describe('prespawn (start the stdio server before the agent loads)', () => {
  afterEach(discardPrespawned);

  it('starts the command after -- and hands it to the first matching adopter only', async () => {
    prespawnFromArgv(['--port', '0', '--', 'cat', '-u'], {});
    expect(adoptPrespawned('cat', ['-v'])).toBeUndefined(); // another command line: not adopted…
    prespawnFromArgv(['--', 'cat', '-u'], {});
    const p = adoptPrespawned('cat', ['-u']);
    expect(p).toBeDefined();
    await p!.spawned;
    expect(p!.child.pid).toBeGreaterThan(0);
    expect(adoptPrespawned('cat', ['-u'])).toBeUndefined(); // …and only once
    p!.child.kill();
  });

  it.each([
    [['--tty', '--', 'cat']],
    [['--session-mode', 'per-session', '--', 'cat']],
    [['--upstream=http://127.0.0.1:1/mcp', '--', 'cat']],
    [['--help', '--', 'cat']],
    [['--port', '8080']],
    [['--']],
  ])('does not guess for %j', (argv) => {
    prespawnFromArgv(argv, {});
    expect(adoptPrespawned('cat', [])).toBeUndefined();
  });

  it('honours per-session mode and --tty from the environment', () => {
    prespawnFromArgv(['--', 'cat'], { OME_MCP_SESSION_MODE: 'per-session' });
    expect(adoptPrespawned('cat', [])).toBeUndefined();
    prespawnFromArgv(['--', 'cat'], { OME_MCP_TTY: 'true' });
    expect(adoptPrespawned('cat', [])).toBeUndefined();
  });
});
