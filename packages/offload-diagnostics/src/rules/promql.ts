import type { Threshold, ThresholdId, ThresholdSet } from '../thresholds/index.js';

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
