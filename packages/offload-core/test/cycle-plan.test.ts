import { describe, expect, it } from 'vitest';
import { planWindow } from '../src/cycle/plan.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';

const now = new Date('2026-11-21T14:15:00.000Z');
const at = (iso: string, sequence = 7n): Cursor => ({ timestampMicros: microsFromDate(new Date(iso)), sequence, tieBreakers: [] });

describe('planWindow', () => {
  it('runs from the stored cursor (exclusive) to now minus the late-data buffer (inclusive)', () => {
    const cursor = at('2026-11-21T13:55:00.000Z');
    const { window, empty } = planWindow(cursor, now, 5);
    expect(window.after).toBe(cursor);
    expect(window.untilMicros).toBe(microsFromDate(new Date('2026-11-21T14:10:00.000Z')));
    expect(empty).toBe(false);
  });

  it('starts from 1970 for a table never offloaded', () => {
    const { window, empty } = planWindow(INITIAL_CURSOR, now, 5);
    expect(window.after).toEqual(INITIAL_CURSOR);
    expect(empty).toBe(false);
  });

  it('keeps fractional buffers to the microsecond', () => {
    const { window } = planWindow(INITIAL_CURSOR, now, 0.5);
    expect(microsFromDate(now) - window.untilMicros).toBe(30_000_000n);
  });

  it('is empty when the upper bound is before the watermark timestamp', () => {
    expect(planWindow(at('2026-11-21T14:11:00.000Z'), now, 5).empty).toBe(true);
  });

  it('is not empty when the upper bound equals the watermark timestamp: later rows may share it', () => {
    const planned = planWindow(at('2026-11-21T14:10:00.000Z'), now, 5);
    expect(planned.window.untilMicros).toBe(planned.window.after.timestampMicros);
    expect(planned.empty).toBe(false);
  });

  it('rejects a negative buffer', () => {
    expect(() => planWindow(INITIAL_CURSOR, now, -1)).toThrow(/lateDataBufferMinutes/);
  });
});
