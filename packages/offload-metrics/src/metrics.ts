import { ConfigError, JOB_ERROR_TYPES, messageOf, silentLogger, systemClock, ttlHeadroomSeconds } from '@coldtier/offload-core';
import type { Clock, ConfigIssue, Layer, Logger, TtlProbe } from '@coldtier/offload-core';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { FreshnessTracker } from './freshness.js';
import type { LagSource } from './freshness.js';
import {
  CYCLE_DURATION_BUCKETS,
  CYCLE_STATUSES,
  DURATION_BUCKETS,
  METRIC_NAMES,
  ROWS_PER_SECOND_QUANTILES,
} from './names.js';

/** A configured table as the metrics see it; a `TableConfig` is one. */
export interface MetricsTable {
  readonly name: string;
  readonly layer: Layer;
}

/** Read at every scrape for `offload_ttl_headroom_seconds`; usually a `TtlMonitor`. */
export interface TtlSource {
  probe(): Promise<readonly TtlProbe[]>;
}

/** The sliding window `offload_rows_per_second` quantiles are computed over. */
export interface QuantileWindow {
  readonly maxAgeSeconds: number;
  /** Sub-windows rotated out one at a time; the window spans (n-1)/n to all of `maxAgeSeconds`. */
  readonly ageBuckets: number;
}

export interface OffloadMetricsOptions {
  /**
   * Registry the metrics are registered on; a new one by default. Pass
   * prom-client's global `register` only if that is really wanted.
   */
  readonly registry?: Registry;
  /** The configured tables, in configuration order. */
  readonly tables: readonly MetricsTable[];
  /** `offload_info{version}`. */
  readonly version: string;
  /** `offload_info{schedule_minutes}`; also sizes the default quantile window. */
  readonly scheduleMinutes: number;
  /** `offload_info{start_time}` and where lag counts from before the store is read; default `clock.now()`. */
  readonly startTime?: Date;
  readonly clock?: Clock;
  /** Read at every scrape to recompute lag and watermark age; usually the `WatermarkStore`. */
  readonly lagSource?: LagSource;
  /** Read at every scrape for the TTL headroom; without it the gauge has no series. */
  readonly ttlSource?: TtlSource;
  readonly logger?: Logger;
  /** Default: four cycles (one hour at 15 minutes) in four sub-windows. */
  readonly rowsPerSecondWindow?: QuantileWindow;
}

/** The reference metrics (and the gauges the alerts read) on one registry. */
export interface OffloadMetrics {
  readonly registry: Registry;
  readonly rowsTotal: Counter<'table' | 'layer'>;
  readonly cyclesTotal: Counter<'status'>;
  readonly errorsTotal: Counter<'table' | 'error_type'>;
  readonly lagMinutes: Gauge<'table'>;
  readonly watermarkTimestampSeconds: Gauge<'table'>;
  readonly tablesConfigured: Gauge;
  readonly lastSuccessTimestamp: Gauge;
  readonly lastFailureTimestamp: Gauge;
  readonly durationSeconds: Histogram<'table' | 'layer'>;
  readonly cycleDurationSeconds: Histogram;
  readonly rowsPerSecond: Summary<'table'>;
  readonly info: Gauge<'version' | 'schedule_minutes' | 'tables' | 'start_time'>;
  readonly lastCycleDurationSeconds: Gauge;
  readonly lastRowsPerSecond: Gauge<'table'>;
  readonly lastBatchRows: Gauge<'table'>;
  readonly lastBatchDurationSeconds: Gauge<'table'>;
  /** Incremented by the scheduler when a tick finds a cycle still running. */
  readonly skippedTicksTotal: Counter;
  readonly ttlHeadroomSeconds: Gauge<'table'>;
  /** Incremented by the TTL guard for each action it takes or is refused. */
  readonly ttlGuardActionsTotal: Counter<'table' | 'action' | 'outcome'>;
  /** Per-table last success and watermark advance, which lag is computed from. */
  readonly freshness: FreshnessTracker;
}

function validate(options: OffloadMetricsOptions): void {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  options.tables.forEach((table, i) => {
    if (seen.has(table.name)) issues.push({ path: `tables[${i}].name`, message: `duplicate table name ${JSON.stringify(table.name)}` });
    seen.add(table.name);
  });
  if (!(options.scheduleMinutes > 0)) {
    issues.push({ path: 'scheduleMinutes', message: `expected a positive number of minutes, got ${options.scheduleMinutes}` });
  }
  const window = options.rowsPerSecondWindow;
  if (window && !(window.maxAgeSeconds > 0 && Number.isInteger(window.ageBuckets) && window.ageBuckets > 0)) {
    issues.push({ path: 'rowsPerSecondWindow', message: 'expected maxAgeSeconds > 0 and an integer ageBuckets > 0' });
  }
  if (issues.length > 0) throw new ConfigError(issues, { source: 'offload metrics options' });
}

/**
 * Registers every metric on the given registry (a fresh one by default), so
 * instances never collide. Counters and duration histograms start at zero for
 * every configured table, error type and cycle status: `increase()` over a
 * series that appears with its first error would miss that error.
 *
 * Lag and watermark gauges are computed at scrape time from the lag source and
 * the injected clock, so they keep rising while no cycle runs. A table that
 * never succeeded counts its lag from its registration in the store
 * (`createdAt`), or from `startTime` before the store was read or without one.
 */
export function createOffloadMetrics(options: OffloadMetricsOptions): OffloadMetrics {
  validate(options);
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const clock = options.clock ?? systemClock;
  const startTime = options.startTime ?? clock.now();
  const names = options.tables.map((t) => t.name);
  const logger = options.logger ?? silentLogger;
  const freshness = new FreshnessTracker(names, startTime, options.lagSource, logger);
  const ttlSource = options.ttlSource;
  const window = options.rowsPerSecondWindow ?? { maxAgeSeconds: 4 * options.scheduleMinutes * 60, ageBuckets: 4 };

  const metrics: OffloadMetrics = {
    registry,
    freshness,
    rowsTotal: new Counter({ name: METRIC_NAMES.rowsTotal, help: 'Rows offloaded', labelNames: ['table', 'layer'], registers }),
    cyclesTotal: new Counter({ name: METRIC_NAMES.cyclesTotal, help: 'Offload cycles by status (success, partial, failed)', labelNames: ['status'], registers }),
    errorsTotal: new Counter({
      name: METRIC_NAMES.errorsTotal,
      help: 'Failed offload attempts by error type (timeout, connection, process_error, crash)',
      labelNames: ['table', 'error_type'],
      registers,
    }),
    lagMinutes: new Gauge({
      name: METRIC_NAMES.lagMinutes,
      help: 'Minutes since the last successful offload',
      labelNames: ['table'],
      registers,
      async collect() {
        await freshness.refresh();
        const now = clock.now();
        for (const table of freshness.tables) this.set({ table }, freshness.lagMinutes(table, now));
      },
    }),
    watermarkTimestampSeconds: new Gauge({
      name: METRIC_NAMES.watermarkTimestampSeconds,
      help: 'Unix time the watermark last advanced',
      labelNames: ['table'],
      registers,
      async collect() {
        await freshness.refresh();
        for (const table of freshness.tables) this.set({ table }, freshness.watermarkSeconds(table));
      },
    }),
    tablesConfigured: new Gauge({ name: METRIC_NAMES.tablesConfigured, help: 'Tables configured', registers }),
    lastSuccessTimestamp: new Gauge({
      name: METRIC_NAMES.lastSuccessTimestamp,
      help: 'Unix time of the last fully successful cycle (0: none yet)',
      registers,
    }),
    lastFailureTimestamp: new Gauge({
      name: METRIC_NAMES.lastFailureTimestamp,
      help: 'Unix time of the last cycle with a failure (0: none yet)',
      registers,
    }),
    durationSeconds: new Histogram({
      name: METRIC_NAMES.durationSeconds,
      help: 'Duration of one table offload, failed ones included',
      labelNames: ['table', 'layer'],
      buckets: [...DURATION_BUCKETS],
      registers,
    }),
    cycleDurationSeconds: new Histogram({
      name: METRIC_NAMES.cycleDurationSeconds,
      help: 'Duration of one offload cycle',
      buckets: [...CYCLE_DURATION_BUCKETS],
      registers,
    }),
    rowsPerSecond: new Summary({
      name: METRIC_NAMES.rowsPerSecond,
      help: `Offload throughput of runs that wrote rows, quantiles over the last ${window.maxAgeSeconds}s`,
      labelNames: ['table'],
      percentiles: [...ROWS_PER_SECOND_QUANTILES],
      maxAgeSeconds: window.maxAgeSeconds,
      ageBuckets: window.ageBuckets,
      registers,
    }),
    info: new Gauge({
      name: METRIC_NAMES.info,
      help: 'Offload scheduler metadata (always 1)',
      labelNames: ['version', 'schedule_minutes', 'tables', 'start_time'],
      registers,
    }),
    lastCycleDurationSeconds: new Gauge({
      name: METRIC_NAMES.lastCycleDurationSeconds,
      help: 'Duration of the last finished cycle, for alerting (0: none yet)',
      registers,
    }),
    lastRowsPerSecond: new Gauge({
      name: METRIC_NAMES.lastRowsPerSecond,
      help: "Throughput of each table's last offload that wrote rows, for alerting",
      labelNames: ['table'],
      registers,
    }),
    lastBatchRows: new Gauge({
      name: METRIC_NAMES.lastBatchRows,
      help: "Rows written by each table's last offload that wrote rows, for alerting",
      labelNames: ['table'],
      registers,
    }),
    lastBatchDurationSeconds: new Gauge({
      name: METRIC_NAMES.lastBatchDurationSeconds,
      help: "Job duration of each table's last offload that wrote rows, for alerting",
      labelNames: ['table'],
      registers,
    }),
    skippedTicksTotal: new Counter({
      name: METRIC_NAMES.skippedTicksTotal,
      help: 'Scheduler ticks skipped because the previous cycle was still running',
      registers,
    }),
    ttlHeadroomSeconds: new Gauge({
      name: METRIC_NAMES.ttlHeadroomSeconds,
      help: 'Seconds until ClickHouse may delete, by its row TTL, the oldest row not yet in Iceberg (+Inf: none waiting)',
      labelNames: ['table'],
      registers,
      async collect() {
        if (!ttlSource) return;
        let probes: readonly TtlProbe[];
        try {
          probes = await ttlSource.probe();
        } catch (error) {
          logger.warn('offload metrics: TTL headroom not probed', { error: messageOf(error) });
          return;
        }
        const now = clock.now();
        this.reset();
        for (const probe of probes) {
          const headroom = ttlHeadroomSeconds(probe, now);
          if (headroom !== null) this.set({ table: probe.table }, headroom);
        }
      },
    }),
    ttlGuardActionsTotal: new Counter({
      name: METRIC_NAMES.ttlGuardActionsTotal,
      help: 'TTL guard actions on source tables by action (stop, start) and outcome (done, refused, failed)',
      labelNames: ['table', 'action', 'outcome'],
      registers,
    }),
  };

  metrics.tablesConfigured.set(options.tables.length);
  metrics.info.set(
    { version: options.version, schedule_minutes: String(options.scheduleMinutes), tables: names.join(','), start_time: startTime.toISOString() },
    1,
  );
  for (const status of CYCLE_STATUSES) metrics.cyclesTotal.inc({ status }, 0);
  for (const { name: table, layer } of options.tables) {
    metrics.rowsTotal.inc({ table, layer }, 0);
    metrics.durationSeconds.zero({ table, layer });
    for (const error_type of JOB_ERROR_TYPES) metrics.errorsTotal.inc({ table, error_type }, 0);
  }
  return metrics;
}
