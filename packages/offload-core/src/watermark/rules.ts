import { OffloadError, UnknownTableError, WatermarkConflictError } from '../errors.js';
import { compareCursors, formatCursor } from './cursor.js';
import type { Cursor } from './cursor.js';
import type { Lease, RunOutcome, RunSuccess } from './store.js';

/**
 * The decisions every `WatermarkStore` must take identically, kept in one
 * place so the PostgreSQL and in-memory stores differ only in plumbing.
 */

/** The reference truncated `last_error_message` to this many characters. */
export const MAX_ERROR_MESSAGE_LENGTH = 1000;

/** Truncates by code points, as PostgreSQL counts characters, so a surrogate pair is never split. */
export function truncateErrorMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return message;
  return Array.from(message).slice(0, MAX_ERROR_MESSAGE_LENGTH).join('');
}

/** A lease is live until `expiresAt`; at that instant it may be taken over. */
export function isLeaseLive(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() > now.getTime();
}

export function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be a positive number of ms, got ${ttlMs}`);
}

/** The stored lease, as far as fencing needs it. */
export interface StoredLease {
  readonly token: bigint;
  readonly expiresAt: Date;
}

/**
 * Fencing: a write is allowed only with the table's newest token, and only
 * while that lease is live. An expired lease is refused even when nobody took
 * it over yet, so a paused process cannot write after it could have lost the
 * table. Lost leases surface as `WatermarkConflictError`, like a moved cursor:
 * in both cases another writer may own the watermark now.
 */
export function assertLeaseCurrent(lease: Lease, stored: StoredLease | undefined, now: Date): void {
  if (stored === undefined || stored.token !== lease.token) {
    throw new WatermarkConflictError(
      lease.table,
      `lease of ${lease.table} held by ${lease.owner} (token ${lease.token}) was taken over` +
        (stored ? ` (current token ${stored.token})` : ''),
    );
  }
  if (!isLeaseLive(stored.expiresAt, now)) {
    throw new WatermarkConflictError(
      lease.table,
      `lease of ${lease.table} held by ${lease.owner} (token ${lease.token}) expired or was released at ${stored.expiresAt.toISOString()}`,
    );
  }
}

/**
 * Compare-and-set check of `completeRun`: the stored cursor must still be the
 * one the run planned from, and a new cursor must be strictly after it.
 * Returns whether the cursor moves.
 */
export function checkAdvance(table: string, stored: Cursor, run: RunSuccess): boolean {
  if (compareCursors(stored, run.window.after) !== 0) {
    throw new WatermarkConflictError(
      table,
      `watermark of ${table} moved: run ${run.runId} planned from ${formatCursor(run.window.after)}, stored is ${formatCursor(stored)}`,
    );
  }
  if (run.cursor === null) return false;
  if (compareCursors(run.cursor, stored) <= 0) {
    throw new WatermarkConflictError(
      table,
      `watermark of ${table} would not move forward: run ${run.runId} reported ${formatCursor(run.cursor)}, stored is ${formatCursor(stored)}`,
    );
  }
  return true;
}

/**
 * Whether a `completeRun` call repeats a completion that already happened:
 * the run succeeded and the stored cursor is the one it reported. Such a call
 * changes nothing, so a runner may advance the watermark inside its own
 * commit transaction and the orchestrator's completion afterwards is a no-op.
 */
export function isRepeatedCompletion(outcome: RunOutcome, stored: Cursor, run: RunSuccess): boolean {
  return outcome === 'success' && compareCursors(stored, run.cursor ?? run.window.after) === 0;
}

export function unknownTable(table: string): UnknownTableError {
  return new UnknownTableError(table, 'no watermark row; call ensureTables first');
}

export function runNotStarted(table: string, runId: string): OffloadError {
  return new OffloadError('internal', `run ${runId} of ${table} was never started`, { table });
}

export function duplicateRun(table: string, runId: string, cause?: unknown): OffloadError {
  return new OffloadError('internal', `run ${runId} of ${table} was already started`, { table, cause });
}

export function assertLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new RangeError(`query limit must be a non-negative integer, got ${limit}`);
  }
}

/** The error recorded on a table whose run stopped reporting (see `recoverStaleRuns`). */
export function staleRunMessage(olderThanMs: number): string {
  return `run abandoned: status running without an update for more than ${olderThanMs} ms`;
}
