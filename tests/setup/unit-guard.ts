/**
 * Setup of the `unit` project (vitest.config.ts): a unit test opens no socket and starts no process.
 * Listening, connecting and spawning throw here, so a file listed as a unit test that needs a real
 * peer fails at once, naming what it tried, instead of quietly making the fast project slow.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const refuse = (what: string) => (): never => {
  throw new Error(`a unit test may not ${what}: move the file to the integration project (vitest.config.ts)`);
};

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const)
  (childProcess as unknown as Record<string, unknown>)[name] = refuse(`start a process (child_process.${name})`);
net.Server.prototype.listen = refuse('listen on a socket');
net.Socket.prototype.connect = refuse('open a socket');
// ESM named imports of node:child_process see the replaced functions too.
syncBuiltinESMExports();
