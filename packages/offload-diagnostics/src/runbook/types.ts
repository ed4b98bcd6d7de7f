import type { ThresholdId } from '../thresholds/index.js';

/**
 * A step's grade. `unknown` means the step could not measure (a permission
 * error, a disabled log, a missing table): the report says so and why, and
 * the other steps still run.
 */
export type StepStatus = 'ok' | 'warning' | 'critical' | 'unknown';

/** The result of one diagnosis step of the performance runbook. */
export interface StepResult<T> {
  readonly status: StepStatus;
  /** Why (part of) the step could not measure; `null` when everything was measured. */
  readonly reason: string | null;
  /** Every bound the step saw crossed. */
  readonly evidence: readonly Evidence[];
  readonly data: T;
}

/**
 * The situations the report classifies into. The first five are the
 * runbook's resolution scenarios (its Scenario 4 split in two: fragmented
 * tables have their own action, `OPTIMIZE ... FINAL`); `slow_cycles` and
 * `watermark_lag` are the symptoms the runbook starts from, reported when
 * they are measured whether or not a cause is found.
 */
export type Scenario =
  | 'volume_spike'
  | 'resource_exhaustion'
  | 'network'
  | 'slow_queries'
  | 'fragmentation'
  | 'slow_cycles'
  | 'watermark_lag';

export type FindingSeverity = 'warning' | 'critical';

/** A measurement that crossed a bound: what was measured, the value, and the bound. */
export interface Evidence {
  /**
   * Threshold id (see `THRESHOLD_CATALOG`), `volumeTarget` for the guide's
   * "Performance Targets by Scale", or `spikeRatio` for the runbook's
   * "row counts 2-5x normal".
   */
  readonly threshold: ThresholdId | 'volumeTarget' | 'spikeRatio';
  /** Logical table name, when the value is one table's. */
  readonly table: string | null;
  readonly value: number;
  readonly bound: number;
  readonly level: FindingSeverity;
  /** One line: what was measured against which bound. */
  readonly reason: string;
}

/** One diagnosed problem: what was measured, against which bound, and what the runbook says to do. */
export interface Finding {
  readonly scenario: Scenario;
  readonly severity: FindingSeverity;
  /** Logical table name, when the finding concerns one table. */
  readonly table: string | null;
  /** One sentence citing the measured value and the threshold. */
  readonly message: string;
  readonly evidence: readonly Evidence[];
  /** The runbook's recommended actions, with the real table names filled in. */
  readonly actions: readonly string[];
}

/** `healthy` when nothing crossed a bound; otherwise the worst severity and the scenarios found. */
export interface Verdict {
  readonly status: 'healthy' | FindingSeverity;
  /** Distinct scenarios of the findings, most severe first. */
  readonly scenarios: readonly Scenario[];
  /** Steps that could not measure; a healthy verdict does not vouch for them. */
  readonly unknownSteps: readonly StepName[];
}

export interface DiagnosticSteps {
  readonly cycleDurations: StepResult<CycleDurations>;
  readonly tableDurations: StepResult<readonly TableDurations[]>;
  readonly volume: StepResult<readonly TableVolume[]>;
  readonly resources: StepResult<Resources>;
  readonly network: StepResult<NetworkSample | null>;
  readonly queries: StepResult<QueryPerformance>;
  readonly parts: StepResult<readonly TableParts[]>;
  readonly watermarks: StepResult<readonly TableWatermark[]>;
}

export type StepName = keyof DiagnosticSteps;

export interface DiagnosticReport {
  readonly generatedAt: Date;
  /** Hours of source volume and query history looked at. */
  readonly hours: number;
  readonly steps: DiagnosticSteps;
  /** Most severe first. */
  readonly findings: readonly Finding[];
  readonly verdict: Verdict;
}

/** Step 1: cycle durations, from the cycle history given to `runDiagnostics`. */
export interface CycleDurations {
  /** Cycles looked at, newest first (at most the last 10, as the runbook's step 1). */
  readonly cycles: number;
  readonly latestSeconds: number | null;
  readonly longestSeconds: number | null;
  readonly averageSeconds: number | null;
  readonly p95Seconds: number | null;
}

/** Step 2: one table's recent offload runs, from the watermark store's run history. */
export interface TableDurations {
  readonly table: string;
  readonly status: StepStatus;
  /** Finished runs in the window, newest first (at most 10). */
  readonly runs: number;
  readonly failedRuns: number;
  readonly latestSeconds: number | null;
  readonly latestRows: number | null;
  readonly longestSeconds: number | null;
  /** The "Performance Targets by Scale" bound for the latest run's row count, scaled by the table's `durationForVolume` threshold. */
  readonly maxAcceptableSeconds: number | null;
}

/** Rows that arrived in one hour-long window ending `hoursAgo` hours before now. */
export interface HourCount {
  readonly hoursAgo: number;
  readonly rows: number;
}

/** Step 3: one table's source volume per hour. */
export interface TableVolume {
  readonly table: string;
  readonly source: string;
  readonly status: StepStatus;
  readonly reason: string | null;
  /** Oldest first; hours without rows are listed with 0. */
  readonly hours: readonly HourCount[];
  /** Rows of the busiest hour, which is what the step grades. */
  readonly peakRows: number | null;
  /** Rows of the last hour. */
  readonly latestRows: number | null;
  /** Median of the hours before the last one. */
  readonly baselineRows: number | null;
  /** `latestRows / baselineRows`, `null` when the baseline is 0 or unknown. */
  readonly ratio: number | null;
  /** Consecutive most recent hours above the steady-state bound. */
  readonly hoursAboveSteadyState: number;
}

/** Step 4: host and process resources, and ClickHouse memory. */
export interface Resources {
  readonly host: HostSample | null;
  /** Bytes ClickHouse tracks as in use (`system.metrics` MemoryTracking). */
  readonly clickhouseMemoryBytes: number | null;
  readonly hostCpuPercent: number | null;
  readonly hostMemoryPercent: number | null;
}

/** What a `HostProbe` reads. */
export interface HostSample {
  /** 1-minute load average. */
  readonly loadAverage1m: number;
  readonly cpuCount: number;
  readonly freeMemoryBytes: number;
  readonly totalMemoryBytes: number;
  /** Resident memory of this process, where an embedded runner does the offload work. */
  readonly processRssBytes: number;
}

/** Step 5: round trips to ClickHouse. */
export interface NetworkSample {
  readonly attempts: number;
  readonly failures: number;
  /** Round-trip times of the successful attempts, in milliseconds. */
  readonly latenciesMs: readonly number[];
  readonly medianMs: number | null;
  readonly lossPercent: number;
}

/** Step 6: finished queries over the source tables (system.query_log) and running ones (system.processes). */
export interface QueryPerformance {
  readonly logged: readonly TableQueries[] | null;
  readonly running: readonly RunningQuery[] | null;
  /** Slowest logged queries, slowest first (at most 10). */
  readonly slowest: readonly LoggedQuery[];
}

export interface TableQueries {
  readonly table: string;
  readonly status: StepStatus;
  readonly queries: number;
  readonly maxSeconds: number;
  /** Queries slower than the `queryDuration` acceptable bound. */
  readonly slowQueries: number;
}

export interface LoggedQuery {
  readonly table: string;
  readonly seconds: number;
  readonly readRows: number;
  readonly query: string;
  readonly startedAt: string;
}

export interface RunningQuery {
  readonly table: string;
  readonly elapsedSeconds: number;
  readonly readRows: number;
  readonly query: string;
}

/** Fragmentation of one source table. */
export interface TableParts {
  readonly table: string;
  readonly source: string;
  readonly status: StepStatus;
  readonly activeParts: number;
  /** The most active parts of any one partition; ClickHouse's own "too many parts" limit is per partition. */
  readonly maxPartsPerPartition: number;
  readonly rows: number;
  readonly bytes: number;
}

/** One table's watermark as the store holds it. */
export interface TableWatermark {
  readonly table: string;
  readonly status: StepStatus;
  /** Minutes since the last successful run (the `offload_lag_minutes` gauge); `null` if it never succeeded. */
  readonly lagMinutes: number | null;
  /** Seconds since the watermark row was last updated. */
  readonly watermarkAgeSeconds: number | null;
  /** How far the offloaded data trails now: now minus the cursor's timestamp, in minutes. */
  readonly dataAgeMinutes: number | null;
  readonly storeStatus: string | null;
  readonly failureCount: number;
}
