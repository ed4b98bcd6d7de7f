import { OffloadError } from '@coldtier/offload-core';
import type { Level, Threshold, ThresholdId, ThresholdSet } from '../thresholds/index.js';
import { formatValue } from './format.js';

/** A measurement graded against one threshold. */
export interface Grade {
  readonly level: Level;
  readonly threshold: ThresholdId;
  /** The table the measurement concerns, when it concerns one. */
  readonly table?: string;
  readonly value: number;
  /** The bound crossed; absent when `level` is `ok`. */
  readonly crossed?: 'acceptable' | 'critical';
  /** The value of the crossed bound, in the threshold's unit. */
  readonly limit?: number;
  /** One line saying what was measured against what. */
  readonly reason: string;
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

/** The more severe of two levels. */
export function worseLevel(a: Level, b: Level): Level {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The most severe grade, the first one on ties; undefined for none. */
export function worstGrade<G extends { readonly level: Level }>(grades: readonly G[]): G | undefined {
  let worst: G | undefined;
  for (const grade of grades) {
    if (worst === undefined || RANK[grade.level] > RANK[worst.level]) worst = grade;
  }
  return worst;
}

/** What a grade is about, when the threshold alone does not say. */
export interface GradeOptions {
  /** The table measured; defaults to the threshold's own table. */
  readonly table?: string | undefined;
  /** Replaces the threshold's title in the reason, e.g. `last cycle duration`. */
  readonly label?: string;
}

function crosses(threshold: Threshold, value: number, bound: number): boolean {
  if (threshold.direction === 'above') return threshold.inclusive ? value >= bound : value > bound;
  return threshold.inclusive ? value <= bound : value < bound;
}

/**
 * Grades one value: `critical` past the critical bound, `warning` past the
 * acceptable bound, else `ok` (whose reason still says whether the target
 * is met).
 */
export function grade(threshold: Threshold, value: number, options: GradeOptions = {}): Grade {
  const table = options.table ?? threshold.table;
  if (!Number.isFinite(value)) {
    throw new OffloadError('internal', `cannot grade ${threshold.title}: ${String(value)} is not a finite number`, { table });
  }
  const subject = `${options.label ?? threshold.title}${table === undefined ? '' : ` of ${table}`}`;
  const shown = formatValue(value, threshold.unit);
  const side = threshold.direction === 'above' ? 'above' : 'below';
  const base = { threshold: threshold.id, value, ...(table === undefined ? {} : { table }) };
  for (const crossed of ['critical', 'acceptable'] as const) {
    const limit = threshold[crossed];
    if (limit === undefined || !crosses(threshold, value, limit)) continue;
    const level: Level = crossed === 'critical' ? 'critical' : 'warning';
    const reason = `${subject} ${shown} is ${threshold.inclusive ? `at or ${side}` : side} the ${crossed} bound ${formatValue(limit, threshold.unit)}`;
    return { ...base, level, crossed, limit, reason };
  }
  const { target } = threshold;
  const reason =
    target === undefined
      ? `${subject} ${shown} is within bounds`
      : crosses(threshold, value, target)
        ? `${subject} ${shown} is within bounds but misses the target ${formatValue(target, threshold.unit)}`
        : `${subject} ${shown} meets the target ${formatValue(target, threshold.unit)}`;
  return { ...base, level: 'ok', reason };
}

/** Grades one value against the threshold `id` of a deployment, for `table` when given. */
export function evaluate(set: ThresholdSet, id: ThresholdId, value: number, table?: string): Grade {
  return grade(set.get(id, table), value, { table });
}
