import type { ClickHouseClient } from '@clickhouse/client';
import { microsFromDate, parseQualifiedName, quoteClickHouse, quoteClickHouseQualified } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';
import type { ThresholdSet } from '../../thresholds/index.js';
import { evaluateHourlyRows } from '../../evaluate/index.js';
import { evidenceOf, stepResult } from '../grade.js';
import { attempt, median, selectRows, toNumber } from '../probe.js';
import type { Evidence, HourCount, StepResult, TableVolume } from '../types.js';

const HOUR_MICROS = 3_600_000_000;

/**
 * Hour-long windows ending at `now`, not clock hours: the runbook's
 * `toStartOfHour` puts the current, partial hour beside full ones, which
 * understates a spike in progress. Bounds are passed as epoch microseconds,
 * so the server's time zone does not matter.
 */
function volumeQuery(table: TableConfig): string {
  const source = quoteClickHouseQualified(parseQualifiedName(table.source));
  const ts = quoteClickHouse(table.timestampColumn);
  return `SELECT intDiv({until:Int64} - toUnixTimestamp64Micro(toDateTime64(${ts}, 6)), ${HOUR_MICROS}) AS hours_ago, count() AS rows
FROM ${source}
WHERE ${ts} > fromUnixTimestamp64Micro({since:Int64}) AND ${ts} <= fromUnixTimestamp64Micro({until:Int64})
GROUP BY hours_ago
ORDER BY hours_ago`;
}

/** Shapes the per-hour counts of one table and grades its busiest hour. */
function summariseVolume(
  table: TableConfig,
  counts: readonly HourCount[],
  hours: number,
  thresholds: ThresholdSet,
): { data: TableVolume; evidence: readonly Evidence[] } {
  const byHour = new Map(counts.map((c) => [c.hoursAgo, c.rows]));
  const series: HourCount[] = [];
  for (let h = hours - 1; h >= 0; h--) series.push({ hoursAgo: h, rows: byHour.get(h) ?? 0 });
  const latestRows = byHour.get(0) ?? 0;
  const baselineRows = median(series.filter((c) => c.hoursAgo > 0).map((c) => c.rows));
  const threshold = thresholds.get('rowsPerHour', table.name);
  const steady = threshold.acceptable ?? threshold.critical;
  let hoursAboveSteadyState = 0;
  while (steady !== undefined && hoursAboveSteadyState < hours && (byHour.get(hoursAboveSteadyState) ?? 0) > steady) hoursAboveSteadyState++;
  const graded = evaluateHourlyRows(thresholds, table.name, series.map((c) => c.rows));
  const data: TableVolume = {
    table: table.name,
    source: table.source,
    status: graded.level,
    reason: null,
    hours: series,
    peakRows: Math.max(...series.map((c) => c.rows)),
    latestRows,
    baselineRows,
    ratio: baselineRows === null || baselineRows === 0 ? null : latestRows / baselineRows,
    hoursAboveSteadyState,
  };
  return { data, evidence: evidenceOf(graded.grades) };
}

/** Step 3: rows per hour per source table over the last `hours` hours. */
export async function volume(
  client: ClickHouseClient,
  tables: readonly TableConfig[],
  now: Date,
  hours: number,
  thresholds: ThresholdSet,
): Promise<StepResult<readonly TableVolume[]>> {
  const until = microsFromDate(now);
  const since = until - BigInt(hours) * BigInt(HOUR_MICROS);
  const reasons: string[] = [];
  const data: TableVolume[] = [];
  const evidence: Evidence[] = [];
  for (const table of tables) {
    const rows = await attempt(`volume of ${table.source}`, () =>
      selectRows<{ hours_ago: unknown; rows: unknown }>(client, volumeQuery(table), { since: since.toString(), until: until.toString() }),
    );
    if (rows.ok) {
      const counts = rows.value.map((r) => ({ hoursAgo: toNumber(r.hours_ago), rows: toNumber(r.rows) }));
      const summary = summariseVolume(table, counts, hours, thresholds);
      data.push(summary.data);
      evidence.push(...summary.evidence);
    } else {
      reasons.push(rows.reason);
      data.push({
        table: table.name, source: table.source, status: 'unknown', reason: rows.reason, hours: [],
        peakRows: null, latestRows: null, baselineRows: null, ratio: null, hoursAboveSteadyState: 0,
      });
    }
  }
  return stepResult(data, data.map((d) => d.status), evidence, reasons);
}
