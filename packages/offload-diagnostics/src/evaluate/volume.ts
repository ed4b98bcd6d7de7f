import type { Level, Threshold } from '../thresholds/index.js';
import { VOLUME_DURATION_TARGETS, type VolumeDurationTarget } from '../thresholds/index.js';

/** A table offload's duration judged against the guide's targets for its volume. */
export interface VolumeDurationGrade {
  readonly level: Level;
  readonly rows: number;
  readonly seconds: number;
  /** The row of the guide's table the volume falls in. */
  readonly target: VolumeDurationTarget;
  /** The longest duration that grades `ok`: the target's maximum scaled by the `durationForVolume` bound. */
  readonly allowedSeconds: number;
  readonly reason: string;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Grades one table offload by its volume ("Performance Targets by Scale"):
 * above the maximum acceptable duration, scaled by the `durationForVolume`
 * threshold (100 % unless a deployment or this table overrides it, as the
 * throughput alert reads it), is a `warning` carrying the guide's action.
 * Volumes above the last row use the last row.
 */
export function evaluateDurationForVolume(rows: number, seconds: number, threshold?: Threshold): VolumeDurationGrade {
  const target = VOLUME_DURATION_TARGETS.find((row) => rows <= row.rows) ?? VOLUME_DURATION_TARGETS.at(-1)!;
  const percent = threshold?.acceptable ?? 100;
  const allowedSeconds = Number(((target.maxAcceptableSeconds * percent) / 100).toPrecision(12));
  const allowance = percent === 100 ? '' : `, ${percent}% of the guide's ${target.maxAcceptableSeconds} s`;
  const scale = `${count(rows)} rows in ${seconds} s (up to ${count(target.rows)} rows`;
  if (seconds > allowedSeconds) {
    return { level: 'warning', rows, seconds, target, allowedSeconds, reason: `${scale} should take < ${allowedSeconds} s${allowance}): ${target.action}` };
  }
  const met = seconds <= target.expectedSeconds ? 'meets the expected' : 'is acceptable but above the expected';
  return { level: 'ok', rows, seconds, target, allowedSeconds, reason: `${scale}) ${met} ${target.expectedSeconds} s` };
}
