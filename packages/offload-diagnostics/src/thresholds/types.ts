/**
 * The shape of a threshold: a measured quantity, which side of a bound is bad,
 * and the seed text each bound comes from.
 */

/** Every threshold of the two seed documents, by stable id. */
export const THRESHOLD_IDS = [
  'cycleDuration',
  'cycleDurationP95',
  'tableDuration',
  'tableDurationP50',
  'tableDurationP95',
  'tableDurationP99',
  'throughput',
  'durationForVolume',
  'throughputP50',
  'throughputP90',
  'throughputP99',
  'successRate',
  'tableErrors',
  'errorRate',
  'lag',
  'watermarkAge',
  'rowsPerHour',
  'bytesPerHour',
  'sustainedRowsPerHour',
  'rowsPerDay',
  'partsCount',
  'queryDuration',
  'clickhouseCpu',
  'clickhouseMemory',
  'clickhouseFreeMemory',
  'sparkMemory',
  'sparkCpu',
  'hostCpu',
  'hostMemory',
  'networkLatency',
  'packetLoss',
  'availability',
  'ttlHeadroom',
] as const;

export type ThresholdId = (typeof THRESHOLD_IDS)[number];

export type ThresholdUnit =
  | 'seconds'
  | 'minutes'
  | 'milliseconds'
  | 'percent'
  | 'rows_per_second'
  | 'rows_per_hour'
  | 'rows_per_day'
  | 'bytes'
  | 'bytes_per_hour'
  | 'errors'
  | 'errors_per_minute'
  | 'parts'
  | 'cores';

/**
 * Which side of a bound is bad: `above` for durations, lag, counts;
 * `below` for throughput, success rate, free memory.
 */
export type ThresholdDirection = 'above' | 'below';

/** The three levels a measurement is graded into. */
export type Level = 'ok' | 'warning' | 'critical';

/** The two seed documents. */
export type SeedDocument = 'runbook' | 'monitoring-guide';

/** Where a bound is written in the seeds, so a reviewer can check it. */
export interface ThresholdSource {
  readonly document: SeedDocument;
  /** Section heading as the seed spells it, e.g. `Performance Targets`. */
  readonly section: string;
  /** The seed's words, shortened. */
  readonly quote: string;
}

/**
 * A bound given as a share of the schedule interval, so that it follows the
 * configured schedule: `{ scheduleFraction: 2 / 3 }` is 600 s for 15-minute
 * cycles and 1200 s for 30-minute ones. Resolved into the threshold's unit.
 */
export interface ScheduleRelativeBound {
  readonly scheduleFraction: number;
}

/** A bound as written in the catalog or an override. */
export type BoundSpec = number | ScheduleRelativeBound;

/** The three bounds of a threshold; each is optional because the seeds do not always give all three. */
export interface ThresholdBounds<B = number> {
  /** Where the seeds want the value to be; not reaching it is still `ok`. */
  readonly target?: B;
  /** The seeds' "acceptable"/SLO bound: crossing it grades `warning`. */
  readonly acceptable?: B;
  /** Crossing it grades `critical`. */
  readonly critical?: B;
}

/** What a threshold is, apart from its bounds. */
interface ThresholdIdentity {
  readonly id: ThresholdId;
  /** Lower-case noun phrase used in reasons, e.g. `cycle duration`. */
  readonly title: string;
  readonly description: string;
  readonly unit: ThresholdUnit;
  readonly direction: ThresholdDirection;
  /** True when reaching the bound already counts as crossing it ("3+ errors"). */
  readonly inclusive: boolean;
  readonly sources: readonly ThresholdSource[];
}

/** A catalog entry, before the schedule and overrides are applied. */
export interface ThresholdDefinition extends ThresholdIdentity, ThresholdBounds<BoundSpec> {}

/** A threshold with every bound in its unit, for one deployment (and possibly one table). */
export interface Threshold extends ThresholdIdentity, ThresholdBounds {
  /** The table this value applies to, when it comes from a per-table override. */
  readonly table?: string;
}

/** Changes to some bounds of some thresholds. */
export type ThresholdOverrides = {
  readonly [K in ThresholdId]?: ThresholdBounds<BoundSpec>;
};
