import type { RunRecord, TableConfig, WatermarkStore } from '@coldtier/offload-core';
import { evaluateCycleDurations, evaluateDurationForVolume, evaluateTableDurations, percentile } from '../../evaluate/index.js';
import type { ThresholdSet } from '../../thresholds/index.js';
import { combine, evidenceOf, stepResult } from '../grade.js';
import { attempt, average } from '../probe.js';
import type { CycleDurations, Evidence, StepResult, TableDurations } from '../types.js';

/** The runbook's step 1 reads the last 10 cycles; step 2 the last runs per table. */
const RECENT = 10;

/** What step 1 needs of a cycle; a `CycleReport` has it. */
export interface CycleSummary {
  readonly startedAt: Date;
  readonly durationSeconds: number;
}

const NO_CYCLES: CycleDurations = { cycles: 0, latestSeconds: null, longestSeconds: null, averageSeconds: null, p95Seconds: null };

/**
 * Step 1 from the store's cycle history (the scheduler records every cycle
 * it finishes): the last cycles started since `since`. None is `unknown`:
 * there is nothing to grade.
 */
export async function storedCycleDurations(
  store: Pick<WatermarkStore, 'recentCycles'>,
  since: Date,
  hours: number,
  thresholds: ThresholdSet,
): Promise<StepResult<CycleDurations>> {
  const history = await attempt('cycle history', () => store.recentCycles({ since, limit: RECENT }));
  if (!history.ok) return stepResult(NO_CYCLES, ['unknown'], [], [history.reason]);
  if (history.value.length === 0) return stepResult(NO_CYCLES, ['unknown'], [], [`no cycle finished in the last ${hours} h`]);
  return cycleDurations(history.value, thresholds);
}

/** Step 1 from the given cycles (newest or oldest first): the last 10, graded against `cycleDuration`. */
export function cycleDurations(history: readonly CycleSummary[], thresholds: ThresholdSet): StepResult<CycleDurations> {
  if (history.length === 0) return stepResult(NO_CYCLES, ['unknown'], [], ['no cycles to measure']);
  const recent = [...history].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, RECENT);
  const seconds = recent.map((c) => c.durationSeconds);
  const data: CycleDurations = {
    cycles: recent.length,
    latestSeconds: seconds[0]!,
    longestSeconds: Math.max(...seconds),
    averageSeconds: average(seconds),
    p95Seconds: percentile(seconds, 0.95) ?? null,
  };
  const graded = evaluateCycleDurations(thresholds, seconds);
  return stepResult(data, [graded.level], evidenceOf(graded.grades), []);
}

const NO_RUNS = { runs: 0, failedRuns: 0, latestSeconds: null, latestRows: null, longestSeconds: null, maxAcceptableSeconds: null } as const;

function secondsOf(run: RunRecord): number {
  return (run.finishedAt!.getTime() - run.startedAt.getTime()) / 1000;
}

function summarise(table: string, runs: readonly RunRecord[], thresholds: ThresholdSet): { data: TableDurations; evidence: readonly Evidence[] } {
  const finished = runs.filter((r) => r.finishedAt !== null && (r.outcome === 'success' || r.outcome === 'failed')).slice(0, RECENT);
  const latest = finished[0];
  if (latest === undefined) return { data: { table, status: 'ok', ...NO_RUNS }, evidence: [] };
  const seconds = finished.map(secondsOf);
  const graded = evaluateTableDurations(thresholds, seconds.map((s, i) => ({ table, seconds: s, rows: finished[i]!.rows ?? 0 })));
  const evidence = evidenceOf(graded.grades);
  const latestSeconds = seconds[0]!;
  const scale = latest.rows === null ? null : evaluateDurationForVolume(latest.rows, latestSeconds, thresholds.get('durationForVolume', table));
  if (scale !== null && scale.level !== 'ok') {
    evidence.push({ threshold: 'volumeTarget', table, value: latestSeconds, bound: scale.allowedSeconds, level: scale.level, reason: `${table}: ${scale.reason}` });
  }
  return {
    data: {
      table,
      status: combine(evidence.map((e) => e.level)),
      runs: finished.length,
      failedRuns: finished.filter((r) => r.outcome === 'failed').length,
      latestSeconds,
      latestRows: latest.rows,
      longestSeconds: Math.max(...seconds),
      maxAcceptableSeconds: scale?.allowedSeconds ?? null,
    },
    evidence,
  };
}

/**
 * Step 2: each table's last finished runs against the per-table duration
 * bounds, and the latest run against the bound for its row count. A table
 * without runs in the window is `ok` here; the watermark step reports
 * whether it is lagging.
 */
export async function tableDurations(
  store: Pick<WatermarkStore, 'recentRuns'>,
  tables: readonly TableConfig[],
  since: Date,
  thresholds: ThresholdSet,
): Promise<StepResult<readonly TableDurations[]>> {
  const reasons: string[] = [];
  const data: TableDurations[] = [];
  const evidence: Evidence[] = [];
  for (const table of tables) {
    // Twice the window: runs still in progress or abandoned take rows but are not counted.
    const runs = await attempt(`run history of ${table.name}`, () => store.recentRuns({ table: table.name, since, limit: RECENT * 2 }));
    if (runs.ok) {
      const summary = summarise(table.name, runs.value, thresholds);
      data.push(summary.data);
      evidence.push(...summary.evidence);
    } else {
      reasons.push(runs.reason);
      data.push({ table: table.name, status: 'unknown', ...NO_RUNS });
    }
  }
  return stepResult(data, data.map((d) => d.status), evidence, reasons);
}
