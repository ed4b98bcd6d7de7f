import type { Level } from '../thresholds/index.js';
import { VOLUME_DURATION_TARGETS, type VolumeDurationTarget } from '../thresholds/index.js';

/** A table offload's duration judged against the guide's targets for its volume. */
export interface VolumeDurationGrade {
  readonly level: Level;
  readonly rows: number;
  readonly seconds: number;
  /** The row of the guide's table the volume falls in. */
  readonly target: VolumeDurationTarget;
  readonly reason: string;
}

/**
 * Grades one table offload by its volume ("Performance Targets by Scale"):
 * above the maximum acceptable duration is a `warning` carrying the guide's
 * action. Volumes above the last row use the last row.
 */
export function evaluateDurationForVolume(rows: number, seconds: number): VolumeDurationGrade {
  const target = VOLUME_DURATION_TARGETS.find((row) => rows <= row.rows) ?? VOLUME_DURATION_TARGETS.at(-1)!;
  const scale = `${rows.toLocaleString('en-US')} rows in ${seconds} s (up to ${target.rows.toLocaleString('en-US')} rows`;
  if (seconds > target.maxAcceptableSeconds) {
    return { level: 'warning', rows, seconds, target, reason: `${scale} should take < ${target.maxAcceptableSeconds} s): ${target.action}` };
  }
  const met = seconds <= target.expectedSeconds ? 'meets the expected' : 'is acceptable but above the expected';
  return { level: 'ok', rows, seconds, target, reason: `${scale}) ${met} ${target.expectedSeconds} s` };
}
