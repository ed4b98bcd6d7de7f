import type { WatermarkState } from './store.js';

/**
 * Minutes since the table's last successful offload — `offload_lag_minutes`
 * as the reference defines it; a table that never succeeded has lagged since
 * it was registered. Never negative (clocks of different hosts may disagree).
 */
export function offloadLagMinutes(state: WatermarkState, now: Date): number {
  const since = state.lastSuccessfulRunAt ?? state.createdAt;
  return Math.max(0, now.getTime() - since.getTime()) / 60_000;
}
