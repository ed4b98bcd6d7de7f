import { describe, expect, it } from 'vitest';
import { INITIAL_CURSOR, offloadLagMinutes, type WatermarkState } from '../src/index.js';

const state = (lastSuccessfulRunAt: string | null): WatermarkState => ({
  table: 't',
  cursor: INITIAL_CURSOR,
  status: lastSuccessfulRunAt ? 'success' : 'initialized',
  lastRowCount: 0,
  lastSuccessfulRunAt: lastSuccessfulRunAt ? new Date(lastSuccessfulRunAt) : null,
  lastRunDurationSeconds: null,
  failureCount: 0,
  lastErrorMessage: null,
  advancedAt: null,
  createdAt: new Date('2026-11-21T10:00:00Z'),
  updatedAt: new Date('2026-11-21T10:00:00Z'),
});

describe('offload lag', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  it('counts minutes since the last success, or since registration before any', () => {
    expect(offloadLagMinutes(state('2026-11-21T11:45:00Z'), now)).toBe(15);
    expect(offloadLagMinutes(state(null), now)).toBe(120);
  });
  it("is never negative when another host's clock is ahead", () => {
    expect(offloadLagMinutes(state('2026-11-21T12:01:00Z'), now)).toBe(0);
  });
});
