import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A directory on a real filesystem of `bytes` (a tmpfs; needs root), so the edge's database meets a
 * full disk rather than a simulated one. Without the privilege it is a plain temp dir and `real` is
 * false: the caller then relies on the outbox byte cap alone and must say so.
 */
export async function smallFilesystem(
  bytes: number,
): Promise<{ dir: string; real: boolean; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-smallfs-'));
  let real = true;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  } catch {
    real = false;
  }
  return {
    dir,
    real,
    async remove() {
      if (real) await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Free bytes on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const { stdout } = await run('df', ['-B1', '--output=avail', dir]);
  return Number(stdout.trim().split('\n').at(-1));
}
