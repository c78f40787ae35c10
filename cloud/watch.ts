import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from './registry.js';

/**
 * Reloads the registry when its file changes. The directory is watched, not the file, because
 * editors and config tools replace the file (a new inode) rather than write into it. A file that no
 * longer validates is logged and the last good registry stays in force.
 */
export function watchRegistry(file: string, onLoad: (r: Registry) => void, log: Logger, debounceMs = 150): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    timer = undefined;
    Registry.load(file).then(
      (r) => {
        log.info({ file, stations: r.stations.length }, 'registry reloaded');
        onLoad(r);
      },
      (e: Error) => log.error({ file, reason: e.message }, 'registry not reloaded; keeping the last good one'),
    );
  };
  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (name !== null && name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
