import { VOLUME_DURATION_TARGETS, type Threshold, type ThresholdId, type ThresholdSet } from '../thresholds/index.js';

/** `15` → `15m`, `7.5` → `450s`: a Prometheus duration for whole seconds. */
export function promDuration(minutes: number): string {
  return Number.isInteger(minutes) ? `${minutes}m` : `${Math.round(minutes * 60)}s`;
}

/**
 * The range windows of the generated rules, derived from the schedule so
 * that every window holds at least one finished cycle: over a shorter one,
 * a healthy pipeline's counters do not move and rates read 0 or 0/0.
 */
export interface RuleWindows {
  /** Errors per table for ConsecutiveFailures: the seeds' 15 minutes, or one interval when longer. */
  readonly errors: string;
  /** Cycles counted for the success rate: two intervals. */
  readonly successRate: string;
  /** Rows looked back on to tell an idle table from a slow one: two intervals. */
  readonly activity: string;
  /** Duration quantiles and error rates on the dashboard: two intervals. */
  readonly dashboard: string;
}

export function ruleWindows(scheduleMinutes: number): RuleWindows {
  const twoIntervals = promDuration(2 * scheduleMinutes);
  return {
    errors: promDuration(Math.max(15, scheduleMinutes)),
    successRate: twoIntervals,
    activity: twoIntervals,
    dashboard: twoIntervals,
  };
}

const quote = (value: string) => JSON.stringify(value);
const escapeRegex = (value: string) => value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** `name{a="b",c!~"d"}` from label matchers already written as PromQL. */
export function selector(name: string, matchers: readonly string[]): string {
  return matchers.length === 0 ? name : `${name}{${matchers.join(',')}}`;
}

/** `job="iceberg-scheduler"` */
export function eq(label: string, value: string): string {
  return `${label}=${quote(value)}`;
}

/** The comparison that is true once `value` crosses the bound, as `grade` decides it. */
export function crossing(threshold: Threshold): '>' | '>=' | '<' | '<=' {
  if (threshold.direction === 'above') return threshold.inclusive ? '>=' : '>';
  return threshold.inclusive ? '<=' : '<';
}

/**
 * One clause per group of tables sharing a value of threshold `id`: each
 * table with an override alone, every other table together (negative regex),
 * joined with `or`. `clause` receives the extra label matcher to put in its
 * selectors (none when no table has an override).
 */
export function perTable(
  set: ThresholdSet,
  id: ThresholdId,
  clause: (tableMatchers: readonly string[], threshold: Threshold) => string,
): string {
  const tables = set.overriddenTables(id);
  if (tables.length === 0) return clause([], set.get(id));
  const others = `table!~${quote(tables.map(escapeRegex).join('|'))}`;
  return [clause([others], set.get(id)), ...tables.map((table) => clause([eq('table', table)], set.get(id, table)))]
    .map((part) => `(${part})`)
    .join(' or ');
}

/**
 * The guide's maximum acceptable duration in seconds for the row count each
 * series of `rows` holds ("Performance Targets by Scale"): the first target
 * whose volume is at least the count, the last one beyond it, as
 * `evaluateDurationForVolume` reads the table. One clause per target, each
 * keeping the series in its row range (`x > a <= b` filters twice) and
 * replacing the value; the ranges do not overlap, so `or` yields one series per table.
 */
export function acceptableSecondsExpr(rows: string): string {
  return VOLUME_DURATION_TARGETS.map((target, i) => {
    const above = i === 0 ? '' : ` > ${VOLUME_DURATION_TARGETS[i - 1]!.rows}`;
    const upTo = i === VOLUME_DURATION_TARGETS.length - 1 ? '' : ` <= ${target.rows}`;
    return `(${rows}${above}${upTo}) * 0 + ${target.maxAcceptableSeconds}`;
  }).join(' or ');
}

/** Each table's last productive batch as a percentage of the acceptable duration for its volume. */
export function durationForVolumeExpr(lastBatchSeconds: string, lastBatchRows: string): string {
  return `100 * ${lastBatchSeconds} / (${acceptableSecondsExpr(lastBatchRows)})`;
}
