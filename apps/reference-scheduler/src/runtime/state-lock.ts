import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OffloadError } from '@coldtier/offload-core';
import { processAlive } from './lease-owner.js';

/** A held state directory; `release` removes the lock file. */
export interface StateLock {
  release(): Promise<void>;
}

/**
 * Claims the embedded state directory for this process: chdb and PGlite each
 * bind their data directory to one process, so a second `coldtier` on the
 * same directory must stop with a clear message instead of corrupting it.
 * A lock left by a process that is gone is taken over.
 */
export async function lockStateDir(root: string, command: string): Promise<StateLock> {
  try {
    await mkdir(root, { recursive: true });
    await access(root, constants.W_OK);
  } catch (cause) {
    throw new OffloadError('config', `invalid --state-dir ${JSON.stringify(root)}: ${(cause as Error).message}`, { cause });
  }
  const path = join(root, 'coldtier.lock');
  const body = JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, body, { flag: 'wx' });
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readFile(path, 'utf8').then((text) => JSON.parse(text) as { pid?: number; command?: string }, () => ({}) as { pid?: number; command?: string });
      if (typeof holder.pid === 'number' && holder.pid !== process.pid && processAlive(holder.pid)) {
        throw new OffloadError(
          'lease_unavailable',
          `state directory ${root} is in use by \`coldtier ${holder.command ?? '?'}\` (pid ${holder.pid}); stop it first or use another --state-dir`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new OffloadError('internal', `could not lock state directory ${root}`);
}
