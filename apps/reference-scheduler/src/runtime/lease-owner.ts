import { hostname } from 'node:os';

/** Whether process `pid` of this host runs (EPERM: it runs under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lease owner of this process: `host:pid`, with a role suffix (`host:pid:backfill`). */
export function leaseOwner(role?: string): string {
  return [hostname(), String(process.pid), ...(role === undefined ? [] : [role])].join(':');
}

/**
 * Whether a lease owner written by `leaseOwner` is a process of this host
 * that has exited: its lease can be taken over at once. An owner on another
 * host, or not in this format, is never judged gone (its lease lapses at its
 * expiry). Hosts must not share a hostname (e.g. containers with a fixed one)
 * and a pid namespace boundary, or a live owner could look gone.
 */
export function isOwnerGone(owner: string): boolean {
  const match = /^(.*):(\d+)(?::[^:]*)?$/.exec(owner);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  return pid !== process.pid && !processAlive(pid);
}
