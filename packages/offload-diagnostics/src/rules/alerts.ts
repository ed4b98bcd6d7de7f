import { OffloadError } from '@coldtier/offload-core';
import { formatValue } from '../evaluate/format.js';
import type { Threshold, ThresholdSet } from '../thresholds/index.js';
import { crossing, durationForVolumeExpr, eq, perTable, promDuration, selector, type RuleWindows } from './promql.js';
import { METRIC_NAMES, UP } from './series.js';

/** The alert names of the reference and Coldtier's TTL alerts: a public contract, never renamed. */
export const ALERT_NAMES = [
  'IcebergOffloadConsecutiveFailures',
  'IcebergOffloadLagCritical',
  'IcebergOffloadCycleTooSlow',
  'IcebergOffloadWatermarkStale',
  'IcebergOffloadSchedulerDown',
  'IcebergOffloadSuccessRateLow',
  'IcebergOffloadLagElevated',
  'IcebergOffloadThroughputLow',
  'IcebergOffloadCycleSlow',
  'IcebergOffloadTTLDataAtRisk',
  'IcebergOffloadTTLHeadroomLow',
] as const;

export type AlertName = (typeof ALERT_NAMES)[number];
export type Severity = 'critical' | 'warning';

/** One alert before it is written as a Prometheus rule. */
export interface AlertSpec {
  readonly name: AlertName;
  readonly severity: Severity;
  readonly expr: string;
  readonly for: string;
  readonly summary: string;
  readonly description: string;
  /** Runbook file name, joined to the configured base URL. */
  readonly runbook: string;
}

/** What the alert expressions are built from. */
export interface AlertContext {
  readonly thresholds: ThresholdSet;
  readonly windows: RuleWindows;
  readonly job: string;
}

/** The guide's runbook files ("Operational Runbooks"). */
const RUNBOOKS = {
  failure: 'iceberg-offload-failure.md',
  lag: 'iceberg-offload-lag.md',
  performance: 'iceberg-offload-performance.md',
  watermark: 'iceberg-offload-watermark-recovery.md',
  scheduler: 'iceberg-scheduler-recovery.md',
  ttl: 'iceberg-offload-ttl-headroom.md',
} as const;

function bound(threshold: Threshold, key: 'acceptable' | 'critical'): number {
  const value = threshold[key];
  if (value === undefined) {
    throw new OffloadError('config', `threshold ${threshold.id} has no ${key} bound, which its alert needs`, { table: threshold.table });
  }
  return value;
}

const show = (threshold: Threshold, key: 'acceptable' | 'critical') => formatValue(bound(threshold, key), threshold.unit);

/** Seconds as Prometheus' `humanizeDuration` would write them, so a description reads one way. */
function showSeconds(threshold: Threshold, key: 'acceptable' | 'critical'): string {
  const seconds = bound(threshold, key);
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [size, unit] of [[86_400, 'd'], [3600, 'h'], [60, 'm']] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join(' ');
}

/**
 * The nine alerts of the reference with expressions that read series the
 * exporter really has. Where the reference was broken:
 * - cycle alerts compare the `offload_last_cycle_duration_seconds` gauge,
 *   not the bare histogram name no exporter emits (defect 1);
 * - lag alerts read a gauge the exporter recomputes at every scrape, so it
 *   keeps rising once cycles stop (defect 3);
 * - throughput judges each table's last productive batch by the guide's
 *   acceptable duration for its row count, only for tables that wrote rows
 *   within two intervals, so small batches never read as slow; the success rate counts cycles
 *   over two intervals and yields nothing, not NaN, when none finished
 *   (defect 4).
 */
export function alertSpecs(context: AlertContext): readonly AlertSpec[] {
  const { thresholds: set, windows } = context;
  const job = eq('job', context.job);
  const on = (name: string, ...matchers: readonly string[]) => selector(name, [job, ...matchers]);
  const cycle = set.get('cycleDuration');
  const lastCycle = on(METRIC_NAMES.lastCycleDurationSeconds);
  const schedule = `${set.scheduleMinutes}-minute schedule`;

  return [
    {
      name: 'IcebergOffloadConsecutiveFailures',
      severity: 'critical',
      expr: perTable(set, 'tableErrors', (m, t) =>
        `sum by (table) (increase(${on(METRIC_NAMES.errorsTotal, ...m)}[${windows.errors}])) ${crossing(t)} ${bound(t, 'critical')}`),
      for: '5m',
      summary: 'Iceberg offload of {{ $labels.table }} keeps failing',
      description: `{{ $labels.table }} failed {{ $value | humanize }} times in ${windows.errors} (critical at ${show(set.get('tableErrors'), 'critical')}).`,
      runbook: RUNBOOKS.failure,
    },
    {
      name: 'IcebergOffloadLagCritical',
      severity: 'critical',
      expr: perTable(set, 'lag', (m, t) => `${on(METRIC_NAMES.lagMinutes, ...m)} ${crossing(t)} ${bound(t, 'critical')}`),
      for: '5m',
      summary: 'Cold tier of {{ $labels.table }} is stale',
      description: `{{ $labels.table }} was last offloaded {{ $value | humanize }} minutes ago (critical above ${show(set.get('lag'), 'critical')}).`,
      runbook: RUNBOOKS.lag,
    },
    {
      name: 'IcebergOffloadCycleTooSlow',
      severity: 'critical',
      expr: `${lastCycle} ${crossing(cycle)} ${bound(cycle, 'critical')}`,
      for: '2m',
      summary: 'Offload cycles risk overlapping the next one',
      description: `The last offload cycle took {{ $value | humanizeDuration }} (critical above ${showSeconds(cycle, 'critical')} on a ${schedule}).`,
      runbook: RUNBOOKS.performance,
    },
    {
      name: 'IcebergOffloadWatermarkStale',
      severity: 'critical',
      expr: perTable(set, 'watermarkAge', (m, t) =>
        `time() - ${on(METRIC_NAMES.watermarkTimestampSeconds, ...m)} ${crossing(t)} ${bound(t, 'critical')}`),
      for: '5m',
      summary: 'Watermark of {{ $labels.table }} stopped advancing',
      description: `The watermark of {{ $labels.table }} last advanced {{ $value | humanizeDuration }} ago (critical above ${showSeconds(set.get('watermarkAge'), 'critical')}).`,
      runbook: RUNBOOKS.watermark,
    },
    {
      name: 'IcebergOffloadSchedulerDown',
      severity: 'critical',
      // absent() also covers a scheduler that vanished from service discovery.
      expr: `${selector(UP, [job])} == 0 or absent(${selector(UP, [job])})`,
      for: '2m',
      summary: 'Offload scheduler is not being scraped',
      description: `Prometheus cannot scrape job ${context.job}: no offloads are observed and no other offload alert can fire.`,
      runbook: RUNBOOKS.scheduler,
    },
    {
      name: 'IcebergOffloadSuccessRateLow',
      severity: 'warning',
      expr: successRateExpr(context, crossing(set.get('successRate')), bound(set.get('successRate'), 'acceptable')),
      for: '10m',
      summary: 'Offload cycles fail too often',
      description: `{{ $value | humanize }}% of offload cycles succeeded over ${windows.successRate} (warning below ${show(set.get('successRate'), 'acceptable')}).`,
      runbook: RUNBOOKS.failure,
    },
    {
      name: 'IcebergOffloadLagElevated',
      severity: 'warning',
      // No upper bound: lag grows one minute per minute, so a 20-30 band lasts
      // exactly the 10-minute `for` and the alert could never fire.
      expr: perTable(set, 'lag', (m, t) => `${on(METRIC_NAMES.lagMinutes, ...m)} ${crossing(t)} ${bound(t, 'acceptable')}`),
      for: '10m',
      summary: 'Cold tier of {{ $labels.table }} is falling behind',
      description: `{{ $labels.table }} was last offloaded {{ $value | humanize }} minutes ago (warning above ${show(set.get('lag'), 'acceptable')}).`,
      runbook: RUNBOOKS.lag,
    },
    {
      name: 'IcebergOffloadThroughputLow',
      severity: 'warning',
      // Judged by duration for the batch's volume, not rows/s: 50 rows in 2 s
      // is a healthy quiet table, not a slow one. The gauges hold one batch
      // until the next productive run, so a shorter `for` than one interval
      // fires on a single slow batch.
      expr: perTable(set, 'durationForVolume', (m, t) =>
        `${durationForVolumeExpr(on(METRIC_NAMES.lastBatchDurationSeconds, ...m), on(METRIC_NAMES.lastBatchRows, ...m))} ${crossing(t)} ${bound(t, 'acceptable')}` +
        ` and on (table) sum by (table) (increase(${on(METRIC_NAMES.rowsTotal, ...m)}[${windows.activity}])) > 0`),
      for: promDuration(Math.min(5, set.scheduleMinutes / 3)),
      summary: 'Offload of {{ $labels.table }} is slow for its volume',
      description:
        `The last offload of {{ $labels.table }} took {{ $value | humanize }}% of the longest acceptable duration for its row count` +
        ` (warning above ${show(set.get('durationForVolume'), 'acceptable')}; guide: 10K rows 30 s, 100K 60 s, 1M 5 min, 10M 10 min).`,
      runbook: RUNBOOKS.performance,
    },
    {
      name: 'IcebergOffloadCycleSlow',
      severity: 'warning',
      // The gauge holds one value per cycle, so a band stays true for a whole interval.
      expr: `${lastCycle} ${crossing(cycle)} ${bound(cycle, 'acceptable')} and ${lastCycle} <= ${bound(cycle, 'critical')}`,
      for: '10m',
      summary: 'Offload cycles are slow',
      description: `The last offload cycle took {{ $value | humanizeDuration }} (warning above ${showSeconds(cycle, 'acceptable')}).`,
      runbook: RUNBOOKS.performance,
    },
    {
      name: 'IcebergOffloadTTLDataAtRisk',
      severity: 'critical',
      expr: perTable(set, 'ttlHeadroom', (m, t) => `${on(METRIC_NAMES.ttlHeadroomSeconds, ...m)} ${crossing(t)} ${bound(t, 'critical')}`),
      for: '5m',
      summary: 'ClickHouse TTL will soon delete rows of {{ $labels.table }} not yet in Iceberg',
      description: `The oldest row of {{ $labels.table }} not yet offloaded expires in {{ $value | humanizeDuration }} (critical below ${showSeconds(set.get('ttlHeadroom'), 'critical')}): fix the offload or stop TTL merges on the source.`,
      runbook: RUNBOOKS.ttl,
    },
    {
      name: 'IcebergOffloadTTLHeadroomLow',
      severity: 'warning',
      expr: perTable(set, 'ttlHeadroom', (m, t) => `${on(METRIC_NAMES.ttlHeadroomSeconds, ...m)} ${crossing(t)} ${bound(t, 'acceptable')}`),
      for: '15m',
      summary: 'Offload of {{ $labels.table }} is falling behind its ClickHouse TTL',
      description: `The oldest row of {{ $labels.table }} not yet offloaded expires in {{ $value | humanizeDuration }} (warning below ${showSeconds(set.get('ttlHeadroom'), 'acceptable')}).`,
      runbook: RUNBOOKS.ttl,
    },
  ];
}

/**
 * Percent of cycles that succeeded over the window. `or vector(0)` keeps a
 * window without any success at 0 % rather than empty; `> 0` on the
 * denominator makes a window without cycles yield nothing instead of 0/0.
 */
export function successRateExpr(context: Pick<AlertContext, 'job' | 'windows'>, op?: string, limit?: number): string {
  const job = eq('job', context.job);
  const window = context.windows.successRate;
  const ok = selector(METRIC_NAMES.cyclesTotal, [job, eq('status', 'success')]);
  const all = selector(METRIC_NAMES.cyclesTotal, [job]);
  const rate = `100 * (sum(increase(${ok}[${window}])) or vector(0)) / (sum(increase(${all}[${window}])) > 0)`;
  return op === undefined || limit === undefined ? rate : `${rate} ${op} ${limit}`;
}
