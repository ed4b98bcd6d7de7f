import type { CycleStatus } from '@coldtier/offload-core';
import type { Level, ThresholdId, ThresholdSet } from '../thresholds/index.js';
import { grade, worstGrade, type Grade } from './grade.js';

/** A window of samples graded against several thresholds; its level is the worst of them. */
export interface WindowGrade {
  readonly level: Level;
  /** The worst grade's reason, or why nothing could be graded. */
  readonly reason: string;
  readonly grades: readonly Grade[];
}

/** One table offload: how long it took and how many rows it wrote. */
export interface TableRun {
  readonly table: string;
  readonly seconds: number;
  readonly rows: number;
}

/** Nearest-rank percentile, as the runbook's `sort -n | arr[int(NR*0.95)]` computes it. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function windowOf(grades: readonly Grade[], empty: string): WindowGrade {
  const worst = worstGrade(grades);
  return worst === undefined ? { level: 'ok', reason: empty, grades } : { level: worst.level, reason: worst.reason, grades };
}

function byTable<T extends { readonly table: string }>(samples: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const sample of samples) {
    const group = groups.get(sample.table);
    if (group === undefined) groups.set(sample.table, [sample]);
    else group.push(sample);
  }
  return groups;
}

function quantileGrades(
  set: ThresholdSet,
  values: readonly number[],
  quantiles: readonly (readonly [number, ThresholdId, string])[],
  table?: string,
): Grade[] {
  return quantiles.flatMap(([p, id, label]) => {
    const value = percentile(values, p);
    return value === undefined ? [] : [grade(set.get(id, table), value, { table, label })];
  });
}

/**
 * Grades cycle durations: the longest cycle against the cycle bound (its
 * critical bound is 2/3 of the configured schedule) and the p95 against the
 * p95 bound.
 */
export function evaluateCycleDurations(set: ThresholdSet, seconds: readonly number[]): WindowGrade {
  if (seconds.length === 0) return windowOf([], 'no cycle finished in the window');
  return windowOf(
    [
      grade(set.get('cycleDuration'), Math.max(...seconds), { label: 'longest cycle duration' }),
      ...quantileGrades(set, seconds, [[0.95, 'cycleDurationP95', 'p95 cycle duration']]),
    ],
    '',
  );
}

/** Grades table offload durations per table: the longest run and the p50/p95/p99, with per-table overrides. */
export function evaluateTableDurations(set: ThresholdSet, runs: readonly TableRun[]): WindowGrade {
  const grades = [...byTable(runs)].flatMap(([table, group]) => {
    const seconds = group.map((run) => run.seconds);
    return [
      grade(set.get('tableDuration', table), Math.max(...seconds), { table, label: 'longest offload duration' }),
      ...quantileGrades(
        set,
        seconds,
        [
          [0.5, 'tableDurationP50', 'p50 offload duration'],
          [0.95, 'tableDurationP95', 'p95 offload duration'],
          [0.99, 'tableDurationP99', 'p99 offload duration'],
        ],
        table,
      ),
    ];
  });
  return windowOf(grades, 'no table offload finished in the window');
}

/**
 * Grades throughput per table: rows over seconds across the window's runs,
 * and the p50/p90/p99 of per-run throughput. Runs that wrote no rows are
 * left out: an empty window between cycles says nothing about speed.
 */
export function evaluateThroughputs(set: ThresholdSet, runs: readonly TableRun[]): WindowGrade {
  const productive = runs.filter((run) => run.rows > 0 && run.seconds > 0);
  const grades = [...byTable(productive)].flatMap(([table, group]) => {
    const rows = group.reduce((sum, run) => sum + run.rows, 0);
    const seconds = group.reduce((sum, run) => sum + run.seconds, 0);
    return [
      grade(set.get('throughput', table), rows / seconds, { table }),
      ...quantileGrades(
        set,
        group.map((run) => run.rows / run.seconds),
        [
          [0.5, 'throughputP50', 'p50 throughput'],
          [0.9, 'throughputP90', 'p90 throughput'],
          [0.99, 'throughputP99', 'p99 throughput'],
        ],
        table,
      ),
    ];
  });
  return windowOf(grades, 'no table offload wrote rows in the window');
}

/** Grades each table's lag in minutes since its last successful offload. */
export function evaluateLags(set: ThresholdSet, lagMinutes: Readonly<Record<string, number>>): WindowGrade {
  const grades = Object.entries(lagMinutes).map(([table, minutes]) => grade(set.get('lag', table), minutes, { table }));
  return windowOf(grades, 'no table reported a lag');
}

/**
 * Grades the share of cycles with status `success`. A window without
 * cycles is `ok` with a reason saying so: a stopped scheduler is the lag's
 * and the watermark's to report, not a 0/0 success rate's.
 */
export function evaluateSuccessRate(set: ThresholdSet, statuses: readonly CycleStatus[]): WindowGrade {
  if (statuses.length === 0) return windowOf([], 'no cycle finished in the window, success rate undefined');
  const succeeded = statuses.filter((status) => status === 'success').length;
  const percent = (100 * succeeded) / statuses.length;
  const label = `cycle success rate (${succeeded}/${statuses.length})`;
  return windowOf([grade(set.get('successRate'), percent, { label })], '');
}

/** Grades each table's errors within the error window (the "3+ errors in 15 minutes" rule). */
export function evaluateTableErrors(set: ThresholdSet, errors: Readonly<Record<string, number>>): WindowGrade {
  const grades = Object.entries(errors).map(([table, count]) => grade(set.get('tableErrors', table), count, { table }));
  return windowOf(grades, 'no table reported errors');
}

/**
 * Grades a table's hourly source volume, oldest hour first: the busiest
 * hour against the per-hour bounds. The reason of a spike says whether it
 * is subsiding (the last hour is below the peak), as the runbook's
 * Scenario 1 decides between waiting and optimising on that.
 */
export function evaluateHourlyRows(set: ThresholdSet, table: string, hourlyRows: readonly number[]): WindowGrade {
  if (hourlyRows.length === 0) return windowOf([], `no hourly volume for ${table}`);
  const peak = Math.max(...hourlyRows);
  const peakGrade = grade(set.get('rowsPerHour', table), peak, { table, label: 'peak rows per hour' });
  const last = hourlyRows[hourlyRows.length - 1]!;
  if (peakGrade.level === 'ok') return windowOf([peakGrade], '');
  const trend = last < peak ? 'subsiding' : 'sustained';
  return windowOf([{ ...peakGrade, reason: `${peakGrade.reason}; the spike is ${trend}` }], '');
}
