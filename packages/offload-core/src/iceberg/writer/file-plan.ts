import { partitionPath } from '../spec/partition.js';
import { parsePartitionValue } from './partition-sql.js';
import type { WindowPartition, WindowPlan } from './window-plan.js';
import { QueryParams, lastCursorAggregate, parseCursorRow, timestampMicros, windowPredicate } from './window-sql.js';

/** Runs a planning query; rows come back as JSON arrays. */
export type PlanningQuery = (sql: string, params: QueryParams) => Promise<unknown[][]>;

/**
 * Files are cut at multiples of 1/QUANTILE_STEPS of a partition's rows; a
 * partition splits into at most this many files per window.
 */
export const QUANTILE_STEPS = 128;

/** One file's share of a partition: rows with a timestamp in (after, until], each bound absent at the partition's ends. */
export interface FileRange {
  readonly afterMicros?: bigint;
  readonly untilMicros?: bigint;
}

/**
 * The partitions the window touches, each with its row count, last cursor
 * and timestamp quantiles, from one scan of the window.
 */
export async function planPartitions(plan: WindowPlan, query: PlanningQuery): Promise<WindowPartition[]> {
  const params = new QueryParams();
  const keys = plan.partitionExprs.map((p, i) => `${p.sql} AS k${i}`);
  const names = keys.map((_, i) => `k${i}`).join(', ');
  const levels = Array.from({ length: QUANTILE_STEPS - 1 }, (_, i) => ((i + 1) / QUANTILE_STEPS).toFixed(6)).join(', ');
  const cuts = `arrayMap(q -> toString(toInt64(floor(q))), quantiles(${levels})(${timestampMicros(plan.cursor)}))`;
  const select = [...keys, 'toString(count())', lastCursorAggregate(plan.cursor), cuts].join(', ');
  const grouped = keys.length > 0 ? ` GROUP BY ${names} ORDER BY ${names}` : '';
  const rows = await query(`SELECT ${select} FROM ${plan.from} WHERE ${windowPredicate(plan.cursor, plan.request.window, params)}${grouped}`, params);
  const k = keys.length;
  return rows.flatMap((row) => {
    const count = Number(row[k]);
    // Without partition keys the aggregate answers one row even for an empty window.
    if (count === 0) return [];
    const texts = row.slice(0, k) as (string | null)[];
    const values = plan.partitionExprs.map((p, i) => parsePartitionValue(p.bound.resultType, texts[i] ?? null));
    const path = partitionPath(plan.partitionExprs.map((p) => p.bound), values);
    const last = parseCursorRow(plan.cursor, row[k + 1] as string[]);
    return [{ values, texts, path, rows: count, last, quantiles: (row[k + 2] as string[]).map(BigInt) }];
  });
}

/**
 * The quantile step where the file starting at step `from` ends: the one
 * that splits the partition's remaining rows evenly into files of at most
 * `rowsPerFile`, or {@link QUANTILE_STEPS} for all the rest. Asked again
 * after each file, so each cut uses the latest bytes-per-row estimate.
 */
export function nextStep(partition: WindowPartition, from: number, rowsPerFile: number): number {
  const remaining = QUANTILE_STEPS - from;
  const perFile = Math.max(1, Math.floor((rowsPerFile * QUANTILE_STEPS) / partition.rows));
  const files = Math.ceil(remaining / perFile);
  return files <= 1 ? QUANTILE_STEPS : from + Math.round(remaining / files);
}

/**
 * The rows between two quantile steps, as a timestamp range: rows sharing a
 * timestamp stay in one file, the first file starts at the window's start
 * and the last ends at the partition's last row.
 */
export function stepRange(partition: WindowPartition, from: number, to: number): FileRange {
  const afterMicros = from > 0 ? partition.quantiles[from - 1] : undefined;
  const untilMicros = to < QUANTILE_STEPS ? partition.quantiles[to - 1] : undefined;
  return { ...(afterMicros === undefined ? {} : { afterMicros }), ...(untilMicros === undefined ? {} : { untilMicros }) };
}
