// /proc readers for the benchmark: the process tree under a pid, its resident memory and CPU time.
// Linux only (the benchmark runs on Linux; elsewhere these return empty/zero values).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat utime/stime (USER_HZ; 100 on every mainstream Linux). */
export const CLK_TCK = 100;

interface StatLine {
  ppid: number;
  /** utime + stime in clock ticks. */
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] = state (field 3), rest[1] = ppid (4), rest[11] = utime (14), rest[12] = stime (15)
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** Every live pid in the trees rooted at `roots` (roots included). */
export function processTree(roots: readonly number[]): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [...roots];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readStat(pid);
    if (!st) continue;
    let list = children.get(st.ppid);
    if (!list) children.set(st.ppid, (list = []));
    list.push(pid);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    if (readStat(pid)) out.push(pid);
    for (const child of children.get(pid) ?? []) stack.push(child);
  }
  return out;
}

/** A `kB` field of /proc/<pid>/status in bytes (0 if the process is gone or has none). */
function statusBytes(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmRSS of one process in bytes (0 if it is gone or a kernel thread). */
export const rssBytes = (pid: number): number => statusBytes(pid, 'VmRSS');

/**
 * RssAnon of one process in bytes: its private memory (heap, JIT code, stacks). The rest of RSS is
 * file-backed, mostly the node executable's own pages, which every process running it shares.
 */
export const anonRssBytes = (pid: number): number => statusBytes(pid, 'RssAnon');

/** Sum of VmRSS over `pids` in bytes. (Shared pages are counted once per process, as `ps` does.) */
export function sumRss(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += rssBytes(pid);
  return total;
}

/** utime+stime per pid, in clock ticks. */
export function cpuTicks(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const st = readStat(pid);
    if (st) out.set(pid, st.ticks);
  }
  return out;
}

/**
 * CPU seconds the processes used between two snapshots. A pid missing from `before` (started
 * in between) counts from zero; a pid missing from `after` (exited) contributes nothing, since
 * its last ticks are no longer readable.
 */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / CLK_TCK;
}
