import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './registry.js';

/**
 * The faults of a config that only show at start-up (a folder that is not there, a port taken), said
 * as `field: reason` with the fix, like the schema's own errors, instead of a stack trace.
 */

const isDir = (p: string): boolean | undefined => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return undefined;
  }
};

/** A database file that would not open: which of the usual reasons it is. */
export function fileError(field: string, file: string, e: unknown): Error {
  const dir = dirname(file);
  if (isDir(file) === true)
    return new ConfigError(`${field}: ${file} is a directory; give a file in it, e.g. ${file}/hj212.db`);
  if (isDir(dir) !== true)
    return new ConfigError(`${field}: the folder ${dir} does not exist; create it or give another path`);
  return new ConfigError(`${field}: cannot open ${file}: ${(e as Error).message}`);
}

/** A listener that could not start. */
export function listenError(field: string, host: string, port: number, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(
        `${field}.port: ${port} on ${host} is in use by another process; stop it or choose another port`,
      );
    case 'EACCES':
      return new ConfigError(`${field}.port: ${port} needs privileges; choose a port above 1023`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ConfigError(
        `${field}.host: unknown host ${host}; give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(`${field}.host: ${host} is not an address of this machine`);
    default:
      return e as Error;
  }
}
