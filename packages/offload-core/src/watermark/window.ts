import type { Cursor } from './cursor.js';

/**
 * The rows a run offloads: those whose cursor is strictly after `after` and
 * whose timestamp is at or before `untilMicros`.
 */
export interface OffloadWindow {
  /** Exclusive lower bound: the watermark the run planned from. */
  readonly after: Cursor;
  /** Inclusive upper bound on the timestamp column, microseconds since epoch. */
  readonly untilMicros: bigint;
}
