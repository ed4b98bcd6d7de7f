import { JOB_ERROR_TYPES, OffloadError } from '../errors.js';
import type { JobErrorType } from '../errors.js';
import { dateFromMicros, formatMicros } from './cursor.js';
import type { Cursor, CursorValue } from './cursor.js';
import type { CycleRecord, RunOutcome, RunRecord, WatermarkState, WatermarkStatus } from './store.js';

/**
 * How store values cross into PostgreSQL and back. Timestamps travel as text
 * both ways (ISO-8601 in, microseconds since epoch out) and integers as
 * decimal text, so no precision is lost to `Date` or `number` and no pool-wide
 * `pg` type parser setting can change what the store reads.
 */

/** Selects a timestamptz column as microseconds since epoch (exact: `extract` returns numeric). */
export function microsColumn(column: string, alias: string): string {
  return `(extract(epoch from ${column}) * 1000000)::bigint::text AS ${alias}`;
}

/** A timestamptz parameter from microseconds. */
export function micros(value: bigint): string {
  return formatMicros(value);
}

/** A timestamptz parameter from a Date. */
export function instant(value: Date): string {
  return value.toISOString();
}

export function readInstant(value: string | null): Date | null {
  return value === null ? null : dateFromMicros(BigInt(value));
}

function readRequiredInstant(value: string): Date {
  return dateFromMicros(BigInt(value));
}

/** Typed tie-breaker values, so a bigint never comes back as a string or a lossy number. */
type EncodedValue = { readonly t: 'i'; readonly v: string } | { readonly t: 's'; readonly v: string };

export function encodeTieBreakers(values: readonly CursorValue[]): string {
  const encoded: EncodedValue[] = values.map((v) => (typeof v === 'bigint' ? { t: 'i', v: v.toString() } : { t: 's', v }));
  return JSON.stringify(encoded);
}

export function decodeTieBreakers(json: unknown, table: string): CursorValue[] {
  if (!Array.isArray(json)) throw corrupt(table, 'tie-breakers are not a JSON array', json);
  return json.map((item: unknown) => {
    if (typeof item === 'object' && item !== null && 'v' in item && typeof item.v === 'string' && 't' in item) {
      if (item.t === 'i' && /^-?\d+$/.test(item.v)) return BigInt(item.v);
      if (item.t === 's') return item.v;
    }
    throw corrupt(table, 'tie-breaker is not {"t":"i"|"s","v":string}', item);
  });
}

function corrupt(table: string, what: string, value: unknown): OffloadError {
  return new OffloadError('internal', `corrupt watermark row for ${table}: ${what}: ${JSON.stringify(value)}`, { table });
}

/** The select list of `offload_watermarks`, matching `WatermarkRow`. */
export const WATERMARK_COLUMNS = [
  'table_name',
  microsColumn('last_offload_timestamp', 'timestamp_micros'),
  'last_offload_max_sequence::text AS sequence',
  'tie_breakers',
  'last_offload_row_count::text AS row_count',
  'status',
  microsColumn('last_successful_run', 'last_successful_run'),
  'last_run_duration_seconds',
  'failure_count',
  'last_error_message',
  microsColumn('advanced_at', 'advanced_at'),
  microsColumn('created_at', 'created_at'),
  microsColumn('updated_at', 'updated_at'),
].join(', ');

export interface WatermarkRow {
  table_name: string;
  timestamp_micros: string;
  sequence: string;
  tie_breakers: unknown;
  row_count: string;
  status: WatermarkStatus;
  last_successful_run: string | null;
  last_run_duration_seconds: number | null;
  failure_count: number;
  last_error_message: string | null;
  advanced_at: string | null;
  created_at: string;
  updated_at: string;
}

export function readWatermark(row: WatermarkRow): WatermarkState {
  return {
    table: row.table_name,
    cursor: {
      timestampMicros: BigInt(row.timestamp_micros),
      sequence: BigInt(row.sequence),
      tieBreakers: decodeTieBreakers(row.tie_breakers, row.table_name),
    },
    status: row.status,
    lastRowCount: Number(row.row_count),
    lastSuccessfulRunAt: readInstant(row.last_successful_run),
    lastRunDurationSeconds: row.last_run_duration_seconds,
    failureCount: row.failure_count,
    lastErrorMessage: row.last_error_message,
    advancedAt: readInstant(row.advanced_at),
    createdAt: readRequiredInstant(row.created_at),
    updatedAt: readRequiredInstant(row.updated_at),
  };
}

/** The select list of `offload_runs`, matching `RunRow`. */
export const RUN_COLUMNS = [
  'run_id',
  'table_name',
  microsColumn('window_after_timestamp', 'after_micros'),
  'window_after_sequence::text AS after_sequence',
  'window_after_tie_breakers AS after_tie_breakers',
  microsColumn('window_until', 'until_micros'),
  'outcome',
  'rows::text AS rows',
  'error_type',
  'error_message',
  'snapshot_id',
  microsColumn('started_at', 'started_at'),
  microsColumn('finished_at', 'finished_at'),
].join(', ');

export interface RunRow {
  run_id: string;
  table_name: string;
  after_micros: string;
  after_sequence: string;
  after_tie_breakers: unknown;
  until_micros: string;
  outcome: RunOutcome;
  rows: string | null;
  error_type: string | null;
  error_message: string | null;
  snapshot_id: string | null;
  started_at: string;
  finished_at: string | null;
}

function readErrorType(value: string | null, table: string): JobErrorType | null {
  if (value === null) return null;
  const known = JOB_ERROR_TYPES.find((t) => t === value);
  if (known === undefined) throw corrupt(table, 'unknown error type', value);
  return known;
}

export function readRun(row: RunRow): RunRecord {
  const after: Cursor = {
    timestampMicros: BigInt(row.after_micros),
    sequence: BigInt(row.after_sequence),
    tieBreakers: decodeTieBreakers(row.after_tie_breakers, row.table_name),
  };
  return {
    runId: row.run_id,
    table: row.table_name,
    window: { after, untilMicros: BigInt(row.until_micros) },
    outcome: row.outcome,
    rows: row.rows === null ? null : Number(row.rows),
    errorType: readErrorType(row.error_type, row.table_name),
    errorMessage: row.error_message,
    snapshotId: row.snapshot_id,
    startedAt: readRequiredInstant(row.started_at),
    finishedAt: readInstant(row.finished_at),
  };
}


/** The select list of `offload_cycles`, matching `CycleRow`. */
export const CYCLE_COLUMNS = [
  'cycle_id',
  'status',
  microsColumn('started_at', 'started_at'),
  microsColumn('finished_at', 'finished_at'),
  'duration_seconds',
  'total_rows::text AS total_rows',
  'tables_succeeded',
  'tables_failed',
  'tables_skipped',
].join(', ');

export interface CycleRow {
  cycle_id: string;
  status: CycleRecord['status'];
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  total_rows: string;
  tables_succeeded: number;
  tables_failed: number;
  tables_skipped: number;
}

export function readCycle(row: CycleRow): CycleRecord {
  return {
    cycleId: row.cycle_id,
    status: row.status,
    startedAt: readRequiredInstant(row.started_at),
    finishedAt: readRequiredInstant(row.finished_at),
    durationSeconds: row.duration_seconds,
    totalRows: Number(row.total_rows),
    tablesSucceeded: row.tables_succeeded,
    tablesFailed: row.tables_failed,
    tablesSkipped: row.tables_skipped,
  };
}
