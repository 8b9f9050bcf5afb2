// Watches files the agent reads from mounted ConfigMaps and Secrets, and calls back once a burst
// of changes has settled. The kubelet updates such a volume by swapping its `..data` symlink, an
// event on the directory that a watch on the old file target would never see: so directories are
// watched, never files.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

export interface FileWatch {
  close(): void;
}

export interface FileWatchOptions {
  logger: Logger;
  /** What the files are, for log lines ("policy", "agent config", …). */
  what: string;
  /** Quiet period after the last event before `onChange` runs (default 200 ms). */
  debounceMs?: number;
}

/** Watches the directories holding `paths` (a directory path is watched itself). Never throws. */
export function watchFiles(paths: readonly string[], onChange: () => void, options: FileWatchOptions): FileWatch {
  const dirs = new Set<string>();
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      /* a missing file is the reader's to report */
    }
    dirs.add(isDir ? p : dirname(p));
  }
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const debounce = options.debounceMs ?? 200;
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounce);
        timer.unref();
      });
      w.on('error', (err) => options.logger.warn({ err, dir }, `${options.what} watch error`));
      watchers.push(w);
    } catch (err) {
      options.logger.warn({ err, dir }, `cannot watch ${options.what} directory; changes need a restart`);
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers.length = 0;
    },
  };
}
