import { dateFromMicros, offloadLagMinutes } from '@coldtier/offload-core';
import type { TableConfig, WatermarkState, WatermarkStore } from '@coldtier/offload-core';
import type { ThresholdSet } from '../../thresholds/index.js';
import { grade } from '../../evaluate/index.js';
import { evidenceOf, statusOf, stepResult } from '../grade.js';
import { attempt } from '../probe.js';
import type { Evidence, StepResult, TableWatermark } from '../types.js';

function watermarkOf(state: WatermarkState, now: Date, thresholds: ThresholdSet): { data: TableWatermark; evidence: readonly Evidence[] } {
  const ms = (since: Date) => now.getTime() - since.getTime();
  const lagMinutes = offloadLagMinutes(state, now);
  const watermarkAgeSeconds = ms(state.advancedAt ?? state.createdAt) / 1000;
  const dataAgeMinutes = state.cursor.timestampMicros > 0n ? ms(dateFromMicros(state.cursor.timestampMicros)) / 60_000 : null;
  const grades = [
    grade(thresholds.get('lag', state.table), lagMinutes, { table: state.table }),
    grade(thresholds.get('watermarkAge', state.table), watermarkAgeSeconds, { table: state.table }),
  ];
  const data: TableWatermark = {
    table: state.table,
    status: statusOf(grades),
    lagMinutes: state.lastSuccessfulRunAt === null ? null : lagMinutes,
    watermarkAgeSeconds,
    dataAgeMinutes,
    storeStatus: state.status,
    failureCount: state.failureCount,
  };
  return { data, evidence: evidenceOf(grades) };
}

/**
 * Watermark ages of the configured tables: minutes since the last successful
 * run (the lag alerts: >20 warning, >30 critical) and seconds since the
 * cursor last moved (the stale-watermark alert: >1h critical).
 */
export async function watermarks(
  store: Pick<WatermarkStore, 'list'>,
  tables: readonly TableConfig[],
  now: Date,
  thresholds: ThresholdSet,
): Promise<StepResult<readonly TableWatermark[]>> {
  const listed = await attempt('watermark store', () => store.list());
  const blank = (table: string): TableWatermark => ({
    table, status: 'unknown', lagMinutes: null, watermarkAgeSeconds: null, dataAgeMinutes: null, storeStatus: null, failureCount: 0,
  });
  if (!listed.ok) return stepResult(tables.map((t) => blank(t.name)), ['unknown'], [], [listed.reason]);
  const byTable = new Map(listed.value.map((s) => [s.table, s]));
  const missing = tables.filter((t) => !byTable.has(t.name)).map((t) => t.name);
  const evidence: Evidence[] = [];
  const data = tables.map((t) => {
    const state = byTable.get(t.name);
    if (state === undefined) return blank(t.name);
    const summary = watermarkOf(state, now, thresholds);
    evidence.push(...summary.evidence);
    return summary.data;
  });
  return stepResult(data, data.map((d) => d.status), evidence, missing.length > 0 ? [`no watermark row for: ${missing.join(', ')}`] : []);
}
