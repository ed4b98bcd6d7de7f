import { microsFromDate } from '../watermark/cursor.js';
import type { Cursor } from '../watermark/cursor.js';
import type { OffloadWindow } from '../watermark/window.js';

/** A window together with whether it can hold any row at all. */
export interface PlannedWindow {
  readonly window: OffloadWindow;
  /**
   * True when no row can be in the window, so the runner need not be called.
   * The window `(after, untilMicros]` is empty only when `untilMicros` is
   * strictly before the watermark's timestamp: when they are equal, rows
   * sharing the watermark's timestamp with a larger sequence still belong to
   * it (the reference dropped those, defect 6).
   */
  readonly empty: boolean;
}

const MICROS_PER_MINUTE = 60_000_000;

/**
 * Plans the next window of a table: from its stored cursor (exclusive) to
 * `now - lateDataBufferMinutes` (inclusive), or to `windowEnd` when that is
 * earlier (a backfill walking history in chunks). The buffer gives rows that
 * arrive late time to land before their timestamp range is read; rows later
 * than the buffer cannot be seen by a cursor-based offload.
 */
export function planWindow(cursor: Cursor, now: Date, lateDataBufferMinutes: number, windowEnd?: Date): PlannedWindow {
  if (!Number.isFinite(lateDataBufferMinutes) || lateDataBufferMinutes < 0) {
    throw new RangeError(`lateDataBufferMinutes must be a number >= 0, got ${lateDataBufferMinutes}`);
  }
  const buffer = BigInt(Math.round(lateDataBufferMinutes * MICROS_PER_MINUTE));
  const bufferEnd = microsFromDate(now) - buffer;
  const untilMicros = windowEnd === undefined ? bufferEnd : [bufferEnd, microsFromDate(windowEnd)].reduce((a, b) => (a < b ? a : b));
  return {
    window: { after: cursor, untilMicros },
    empty: untilMicros < cursor.timestampMicros,
  };
}
