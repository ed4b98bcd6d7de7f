import type { Grade } from '../evaluate/index.js';
import type { Evidence, StepResult, StepStatus } from './types.js';

const RANK: Readonly<Record<StepStatus, number>> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

/**
 * The status of several measurements: the worst warning or critical if any;
 * otherwise `unknown` if any could not be measured, since `ok` would vouch
 * for what was not seen.
 */
export function combine(statuses: readonly StepStatus[]): StepStatus {
  return statuses.reduce<StepStatus>((worst, s) => (RANK[s] > RANK[worst] ? s : worst), 'ok');
}

export function severityRank(status: StepStatus): number {
  return RANK[status];
}

/** The grades that crossed a bound, as evidence a finding can cite. */
export function evidenceOf(grades: readonly Grade[]): Evidence[] {
  return grades.flatMap((g) =>
    g.level === 'ok' || g.limit === undefined
      ? []
      : [{ threshold: g.threshold, table: g.table ?? null, value: g.value, bound: g.limit, level: g.level, reason: g.reason }],
  );
}

/** The worst level of some grades, `ok` for none. */
export function statusOf(grades: readonly { readonly level: StepStatus }[]): StepStatus {
  return combine(grades.map((g) => g.level));
}

/** Builds a step result from per-subject statuses, evidence and the reasons of failed probes. */
export function stepResult<T>(data: T, statuses: readonly StepStatus[], evidence: readonly Evidence[], reasons: readonly string[]): StepResult<T> {
  return { status: combine(statuses), reason: reasons.length > 0 ? reasons.join('; ') : null, evidence, data };
}

/** Numbers in messages: grouped digits, at most two decimals. */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
