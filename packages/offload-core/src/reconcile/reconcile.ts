import type { TableConfig } from '../config/index.js';
import { parseQualifiedName } from '../identifiers/index.js';
import type { Catalog, LoadedTable } from '../iceberg/catalog/catalog.js';
import { findFieldByName } from '../iceberg/spec/schema.js';
import { currentSchema, currentSnapshot } from '../iceberg/spec/table-metadata.js';
import type { NestedField } from '../iceberg/spec/types.js';
import type { ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import { committedWatermarkOf } from '../runner/embedded/summary.js';
import { cursorToJson } from '../watermark/cursor.js';
import type { Cursor, CursorJson } from '../watermark/cursor.js';
import { bucketSpan, bucketStartMicros } from './buckets.js';
import type { Granularity } from './buckets.js';
import { countClickHouse } from './clickhouse-counts.js';
import type { ClickHouseBucket } from './clickhouse-counts.js';
import type { IcebergDataReader } from './data-reader.js';
import { ReconcileError } from './errors.js';
import { countFromMetadata, filesInRange } from './iceberg-counts.js';

/** At most this many ranges per call; ask for a shorter period or a coarser granularity. */
export const MAX_RANGES = 10_000;

export interface ReconcileOptions {
  readonly clickhouse: ParquetQueryClient;
  readonly catalog: Catalog;
  readonly table: TableConfig;
  /** Start of the period; floored to the granularity. */
  readonly from: Date;
  /** End of the period (exclusive); rounded up to the granularity. */
  readonly to: Date;
  /** Width of each range (default `day`). */
  readonly granularity?: Granularity;
  /**
   * `metadata` sums manifest record counts and never opens a data file;
   * `data` reads the files through `dataReader`, counting duplicate cursor
   * keys exactly; `auto` (default) takes metadata when the partition spec
   * allows it, data otherwise.
   */
  readonly method?: 'auto' | 'metadata' | 'data';
  readonly dataReader?: IcebergDataReader;
  /**
   * Rows after this cursor are pending, not missing. Defaults to the
   * newest `coldtier.watermark` this source committed to the table (the
   * watermark store's value may be passed instead); `null` counts every row
   * as committed.
   */
  readonly watermark?: Cursor | null;
  readonly signal?: AbortSignal;
}

export type RangeStatus = 'ok' | 'missing' | 'duplicates' | 'mismatch';

/** Row counts of a range or of the whole period. */
export interface ReconcileTotals {
  /** Source rows at or before the watermark: those Iceberg should hold. */
  readonly clickhouseRows: number;
  /** Source rows after the watermark: not offloaded yet. */
  readonly pendingRows: number;
  readonly icebergRows: number;
  /** Source rows Iceberg lacks: max(0, clickhouse − distinct Iceberg rows). */
  readonly missing: number;
  /** Extra copies in Iceberg; exact from data, inferred as max(0, iceberg − clickhouse) from metadata. */
  readonly duplicates: number;
  /** Distinct Iceberg rows beyond the source's (data only): e.g. rows the source has since dropped by TTL. */
  readonly extra: number;
  readonly status: RangeStatus;
}

/** One day or hour of the period. */
export interface ReconcileRange extends ReconcileTotals {
  readonly start: Date;
  readonly end: Date;
}

export interface ReconcileResult {
  /** Logical table name. */
  readonly table: string;
  readonly granularity: Granularity;
  /** The period actually compared, aligned to the granularity. */
  readonly from: Date;
  readonly to: Date;
  /** Where the Iceberg counts came from. */
  readonly source: 'metadata' | 'data';
  /** False when duplicates are inferred from counts (metadata): an excess could also be rows the source dropped. */
  readonly duplicatesExact: boolean;
  /** The watermark rows were split at, `null` when none. */
  readonly watermark: CursorJson | null;
  /** The Iceberg snapshot compared, `null` for a table with none. */
  readonly snapshotId: string | null;
  readonly ranges: readonly ReconcileRange[];
  readonly totals: ReconcileTotals;
}

interface IcebergBucket {
  readonly rows: number;
  readonly duplicates: number;
}

/**
 * Compares a source table with its Iceberg table, day by day (or hour by
 * hour): rows per range in ClickHouse against rows per range in Iceberg.
 * The Iceberg side comes from the manifests when the table is partitioned
 * by day or hour of the timestamp, so no data is read; otherwise, or on
 * request, from the data files. Source rows newer than the watermark are
 * reported as pending rather than missing.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { table, catalog } = options;
  const granularity = options.granularity ?? 'day';
  const { first, end } = bucketSpan(options.from, options.to, granularity);
  if (end - first > MAX_RANGES) {
    throw new ReconcileError(table.name, `${end - first} ${granularity} ranges requested; at most ${MAX_RANGES} per call`);
  }
  const target = parseQualifiedName(table.target);
  const loaded = await catalog.loadTable({ namespace: [target.namespace], name: target.name });
  const watermark = options.watermark === undefined ? (committedWatermarkOf(loaded.metadata, table.source) ?? null) : options.watermark;
  const signal = options.signal ? { signal: options.signal } : {};
  const [clickhouse, iceberg] = await Promise.all([
    countClickHouse(options.clickhouse, { table, granularity, first, end, watermark, ...signal }),
    countIceberg(options, loaded, granularity, first, end),
  ]);
  const ranges: ReconcileRange[] = [];
  for (let bucket = first; bucket < end; bucket++) {
    ranges.push(compare(bucket, granularity, clickhouse.get(bucket), iceberg.counts.get(bucket), iceberg.source === 'data'));
  }
  const snapshot = currentSnapshot(loaded.metadata);
  return {
    table: table.name,
    granularity,
    from: dateOf(bucketStartMicros(first, granularity)),
    to: dateOf(bucketStartMicros(end, granularity)),
    source: iceberg.source,
    duplicatesExact: iceberg.source === 'data',
    watermark: watermark ? cursorToJson(watermark) : null,
    snapshotId: snapshot ? snapshot.snapshotId.toString() : null,
    ranges,
    totals: totalOf(ranges),
  };
}

async function countIceberg(
  options: ReconcileOptions,
  loaded: LoadedTable,
  granularity: Granularity,
  first: number,
  end: number,
): Promise<{ source: 'metadata' | 'data'; counts: Map<number, IcebergBucket> }> {
  const { table, catalog } = options;
  const method = options.method ?? 'auto';
  const timestamp = timestampField(loaded, table);
  if (method !== 'data') {
    const counts = await countFromMetadata(catalog.io, loaded.metadata, timestamp, granularity);
    if (counts) return { source: 'metadata', counts: new Map([...counts].map(([b, rows]) => [b, { rows, duplicates: 0 }])) };
    if (method === 'metadata') {
      throw new ReconcileError(table.name, `${table.target} is not partitioned by day or hour of ${table.timestampColumn} at ${granularity} granularity; read the data instead`);
    }
  }
  if (!options.dataReader) {
    throw new ReconcileError(table.name, `counting ${table.target} by ${granularity} needs its data read; pass a dataReader`);
  }
  const files = await filesInRange(catalog.io, loaded.metadata, timestamp, granularity, first, end);
  try {
    const buckets = await options.dataReader.countRows({
      files: files.map((f) => f.filePath),
      timestampColumn: table.timestampColumn,
      keyColumns: [table.sequenceColumn, ...table.tieBreakerColumns],
      granularity,
      first,
      end,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { source: 'data', counts: new Map(buckets.map((b) => [b.bucket, { rows: b.rows, duplicates: b.duplicates }])) };
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new ReconcileError(table.name, `reading the data files of ${table.target} failed`, { cause, retryable: true });
  }
}

function timestampField(loaded: LoadedTable, table: TableConfig): NestedField {
  const field = findFieldByName(currentSchema(loaded.metadata), table.timestampColumn);
  if (!field) throw new ReconcileError(table.name, `${table.target} has no column ${table.timestampColumn}`);
  return field;
}

function compare(bucket: number, granularity: Granularity, ch: ClickHouseBucket | undefined, ice: IcebergBucket | undefined, exact: boolean): ReconcileRange {
  const clickhouseRows = ch?.committed ?? 0;
  const icebergRows = ice?.rows ?? 0;
  // From metadata alone an excess can only be read as duplicates; data tells copies from rows the source lacks.
  const duplicates = exact ? (ice?.duplicates ?? 0) : Math.max(0, icebergRows - clickhouseRows);
  const distinct = icebergRows - duplicates;
  const missing = Math.max(0, clickhouseRows - distinct);
  const extra = Math.max(0, distinct - clickhouseRows);
  return {
    start: dateOf(bucketStartMicros(bucket, granularity)),
    end: dateOf(bucketStartMicros(bucket + 1, granularity)),
    clickhouseRows,
    pendingRows: ch?.pending ?? 0,
    icebergRows,
    missing,
    duplicates,
    extra,
    status: statusOf(missing, duplicates, extra),
  };
}

function statusOf(missing: number, duplicates: number, extra: number): RangeStatus {
  if (extra > 0 || (missing > 0 && duplicates > 0)) return 'mismatch';
  if (missing > 0) return 'missing';
  if (duplicates > 0) return 'duplicates';
  return 'ok';
}

function totalOf(ranges: readonly ReconcileRange[]): ReconcileTotals {
  const sum = (key: 'clickhouseRows' | 'pendingRows' | 'icebergRows' | 'missing' | 'duplicates' | 'extra') => ranges.reduce((n, r) => n + r[key], 0);
  const statuses = new Set(ranges.map((r) => r.status));
  statuses.delete('ok');
  const [only] = statuses;
  return {
    clickhouseRows: sum('clickhouseRows'),
    pendingRows: sum('pendingRows'),
    icebergRows: sum('icebergRows'),
    missing: sum('missing'),
    duplicates: sum('duplicates'),
    extra: sum('extra'),
    status: statuses.size === 0 ? 'ok' : statuses.size === 1 && only ? only : 'mismatch',
  };
}

function dateOf(micros: bigint): Date {
  return new Date(Number(micros / 1000n));
}
