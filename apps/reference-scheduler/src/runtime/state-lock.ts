import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OffloadError } from '@coldtier/offload-core';
import { processAlive } from './lease-owner.js';

/** What the lock file says about the process holding the state directory. */
export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
  /** Socket of a running `start` that answers forwarded commands (see `control.ts`). */
  readonly control?: string;
}

/** A held state directory; `release` removes the lock file. */
export interface StateLock {
  /** Tells other processes where this one answers their commands. */
  advertise(control: string): Promise<void>;
  release(): Promise<void>;
}

/** The state directory is held by another live process. */
export class StateDirInUseError extends OffloadError {
  readonly root: string;
  readonly holder: LockHolder;
  constructor(root: string, holder: LockHolder) {
    const beside = holder.control === undefined ? '' : ' (status, diagnose and reconcile work beside it)';
    super('lease_unavailable', `state directory ${root} is in use by \`coldtier ${holder.command}\` (pid ${holder.pid}); stop it first or use another --state-dir${beside}`);
    this.root = root;
    this.holder = holder;
  }
}

async function readHolder(path: string): Promise<Partial<LockHolder>> {
  return readFile(path, 'utf8').then((text) => JSON.parse(text) as Partial<LockHolder>, () => ({}));
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
  const holder: LockHolder = { pid: process.pid, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, JSON.stringify(holder), { flag: 'wx' });
      return {
        // Replaced whole (rename), so a reader never sees half a file.
        advertise: async (control) => {
          await writeFile(`${path}.tmp`, JSON.stringify({ ...holder, control }));
          await rename(`${path}.tmp`, path);
        },
        release: () => rm(path, { force: true }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const other = await readHolder(path);
      if (typeof other.pid === 'number' && other.pid !== process.pid && processAlive(other.pid)) {
        throw new StateDirInUseError(root, { pid: other.pid, command: other.command ?? '?', since: other.since ?? '?', ...(typeof other.control === 'string' ? { control: other.control } : {}) });
      }
      await rm(path, { force: true });
    }
  }
  throw new OffloadError('internal', `could not lock state directory ${root}`);
}
