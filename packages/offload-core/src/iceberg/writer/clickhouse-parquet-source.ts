import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { OffloadError } from '../../errors.js';
import { quoteClickHouse, quoteClickHouseQualified } from '../../identifiers/index.js';
import type { QualifiedName } from '../../identifiers/index.js';
import { silentLogger } from '../../logger.js';
import type { Logger } from '../../logger.js';
import { compareCursors } from '../../watermark/cursor.js';
import type { Cursor } from '../../watermark/cursor.js';
import type { OffloadWindow } from '../../watermark/window.js';
import { rewriteWithFieldIds } from '../parquet/rewrite.js';
import { parseClickHouseType } from '../schema-mapping/clickhouse-type.js';
import type { ClickHouseColumn } from '../schema-mapping/evolve.js';
import { selectExpression } from '../schema-mapping/type-mapping.js';
import type { DataFile, PartitionValue } from '../spec/data-file.js';
import { partitionPath } from '../spec/partition.js';
import type { PartitionSpec } from '../spec/partition.js';
import type { IcebergSchema } from '../spec/types.js';
import { parsePartitionValue, partitionExpressions } from './partition-sql.js';
import type { PartitionExpression } from './partition-sql.js';
import { QueryParams, afterCursor, atOrBeforeCursor, cursorSelect, orderBy, parseCursorRow, windowPredicate } from './window-sql.js';
import type { CursorColumns } from './window-sql.js';

/** The part of the ClickHouse client the writer uses. */
export type ParquetQueryClient = Pick<ClickHouseClient, 'query' | 'exec'>;

/** The source table and how its rows are ordered. */
export interface ParquetSourceTable {
  /** Logical name, for errors and logs. */
  readonly name: string;
  readonly source: QualifiedName;
  readonly timestampColumn: string;
  readonly sequenceColumn: string;
  readonly tieBreakerColumns: readonly string[];
  /** Read with FINAL (ReplacingMergeTree sources). */
  readonly final: boolean;
}

export interface WriteWindowRequest {
  readonly table: ParquetSourceTable;
  /** The Iceberg schema the files are written for (see `evolveSchema`). */
  readonly schema: IcebergSchema;
  /** Columns to offload, in file order, with ClickHouse types; must include the cursor columns. */
  readonly columns: readonly ClickHouseColumn[];
  readonly partitionSpec: PartitionSpec;
  readonly window: OffloadWindow;
  /** Local directory of the Iceberg table; files go under `data/`. */
  readonly tableLocation: string;
  /** Unique per run: file names start with it, so a retried run never overwrites a committed file. */
  readonly runId: string;
  readonly signal?: AbortSignal;
}

export interface WrittenWindow {
  readonly dataFiles: readonly DataFile[];
  /** Cursor of the last row written, undefined when the window was empty. */
  readonly maxCursor: Cursor | undefined;
  readonly rowCount: bigint;
  readonly bytes: bigint;
}

export interface ClickHouseParquetSourceOptions {
  /** Files roll over at about this size. */
  readonly targetFileSizeBytes: number;
  /** Rows in the first file of each partition, before sizes are known (default 1,000,000). */
  readonly initialRowsPerFile?: number;
  /** Extra or overriding `output_format_parquet_*` settings. */
  readonly parquetSettings?: ClickHouseSettings;
  readonly logger?: Logger;
}

/** Settings that make ClickHouse's Parquet match Iceberg's expectations (see the type mapping). */
export const PARQUET_OUTPUT_SETTINGS: ClickHouseSettings = {
  output_format_parquet_string_as_string: 1,
  output_format_parquet_fixed_string_as_fixed_byte_array: 1,
  output_format_parquet_datetime_as_uint32: 0,
  output_format_parquet_compression_method: 'zstd',
  output_format_parquet_write_page_index: 1,
};

/** A ClickHouse query or file step of the writer failed. */
export class ParquetWriteError extends OffloadError {
  constructor(table: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('internal', `${table}: ${message}`, { table, ...options });
  }
}

interface Partition {
  readonly values: readonly PartitionValue[];
  readonly texts: readonly (string | null)[];
  readonly path: string;
}

/**
 * Writes a table window as Iceberg data files by letting ClickHouse encode
 * the Parquet and rewriting only the footer to add field ids. Each file is
 * streamed to disk, so memory does not grow with the window. Files are cut by
 * cursor ranges decided before each export: a file holds the rows in
 * (previous boundary, boundary], so rows are neither lost nor repeated across
 * files and the window's last cursor is known exactly.
 */
export class ClickHouseParquetSource {
  private readonly logger: Logger;

  constructor(
    private readonly client: ParquetQueryClient,
    private readonly options: ClickHouseParquetSourceOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  async writeWindow(request: WriteWindowRequest): Promise<WrittenWindow> {
    const plan = new WindowPlan(request);
    const partitions = await this.partitions(plan);
    const dataFiles: DataFile[] = [];
    let maxCursor: Cursor | undefined;
    let fileNumber = 0;
    for (const partition of partitions) {
      let previous = request.window.after;
      let rows = this.options.initialRowsPerFile ?? 1_000_000;
      for (;;) {
        request.signal?.throwIfAborted();
        const boundary = (await this.cursorAt(plan, partition, previous, rows)) ?? (await this.lastCursor(plan, partition, previous));
        if (!boundary) break;
        const file = await this.exportFile(plan, partition, previous, boundary, fileNumber++);
        dataFiles.push(file);
        if (!maxCursor || compareCursors(boundary, maxCursor) > 0) maxCursor = boundary;
        previous = boundary;
        const bytesPerRow = Number(file.fileSizeInBytes) / Math.max(1, Number(file.recordCount));
        rows = Math.max(1, Math.floor(this.options.targetFileSizeBytes / bytesPerRow));
      }
    }
    const rowCount = dataFiles.reduce((n, f) => n + f.recordCount, 0n);
    const bytes = dataFiles.reduce((n, f) => n + f.fileSizeInBytes, 0n);
    this.logger.info('window written', { table: request.table.name, files: dataFiles.length, rows: rowCount.toString(), bytes: bytes.toString() });
    return { dataFiles, maxCursor, rowCount, bytes };
  }

  private async rows(plan: WindowPlan, sql: string, params: QueryParams): Promise<(string | null)[][]> {
    try {
      const result = await this.client.query({
        query: sql,
        format: 'JSONCompactEachRow',
        query_params: params.values,
        ...(plan.request.signal ? { abort_signal: plan.request.signal } : {}),
      });
      return await result.json<(string | null)[]>();
    } catch (cause) {
      throw this.wrap(plan, 'query failed', cause);
    }
  }

  private wrap(plan: WindowPlan, message: string, cause: unknown): unknown {
    if (plan.request.signal?.aborted || cause instanceof OffloadError) return cause;
    return new ParquetWriteError(plan.request.table.name, message, { cause, retryable: true });
  }

  /** The distinct partitions the window touches, each with its values and path. */
  private async partitions(plan: WindowPlan): Promise<Partition[]> {
    if (plan.partitionExprs.length === 0) return [{ values: [], texts: [], path: '' }];
    const params = new QueryParams();
    const keys = plan.partitionExprs.map((p, i) => `${p.sql} AS k${i}`).join(', ');
    const rows = await this.rows(plan, `SELECT DISTINCT ${keys} FROM ${plan.from} WHERE ${windowPredicate(plan.cursor, plan.request.window, params)}`, params);
    return rows.map((texts) => {
      const values = plan.partitionExprs.map((p, i) => parsePartitionValue(p.bound.resultType, texts[i] ?? null));
      return { values, texts, path: partitionPath(plan.partitionExprs.map((p) => p.bound), values) };
    });
  }

  private filter(plan: WindowPlan, partition: Partition, previous: Cursor, params: QueryParams): string {
    const parts = [windowPredicate(plan.cursor, plan.request.window, params), afterCursor(plan.cursor, previous, params)];
    plan.partitionExprs.forEach((p, i) => {
      const text = partition.texts[i];
      parts.push(text === null || text === undefined ? `isNull(${p.sql})` : `${p.sql} = ${params.bind('String', text)}`);
    });
    return parts.join(' AND ');
  }

  /** Cursor of the `n`-th row after `previous` in the partition, if there are that many. */
  private async cursorAt(plan: WindowPlan, partition: Partition, previous: Cursor, n: number): Promise<Cursor | undefined> {
    const params = new QueryParams();
    const where = this.filter(plan, partition, previous, params);
    const sql = `SELECT ${cursorSelect(plan.cursor)} FROM ${plan.from} WHERE ${where} ORDER BY ${orderBy(plan.cursor)} LIMIT 1 OFFSET ${params.bind('UInt64', n - 1)}`;
    const [row] = await this.rows(plan, sql, params);
    return row ? parseCursorRow(plan.cursor, row as string[]) : undefined;
  }

  private async lastCursor(plan: WindowPlan, partition: Partition, previous: Cursor): Promise<Cursor | undefined> {
    const params = new QueryParams();
    const where = this.filter(plan, partition, previous, params);
    const [row] = await this.rows(plan, `SELECT ${cursorSelect(plan.cursor)} FROM ${plan.from} WHERE ${where} ORDER BY ${orderBy(plan.cursor, 'DESC')} LIMIT 1`, params);
    return row ? parseCursorRow(plan.cursor, row as string[]) : undefined;
  }

  private async exportFile(plan: WindowPlan, partition: Partition, previous: Cursor, boundary: Cursor, n: number): Promise<DataFile> {
    const { request } = plan;
    const dir = join(request.tableLocation, 'data', ...(partition.path ? partition.path.split('/') : []));
    const path = join(dir, `${request.runId}-${String(n).padStart(5, '0')}.parquet`);
    const temporary = `${path}.partial`;
    const params = new QueryParams();
    const where = `${this.filter(plan, partition, previous, params)} AND ${atOrBeforeCursor(plan.cursor, boundary, params)}`;
    // The inner query filters and orders on the source columns; the outer casts, so aliases never shadow them.
    const inner = `SELECT ${plan.sourceColumns} FROM ${plan.from} WHERE ${where} ORDER BY ${orderBy(plan.cursor)}`;
    const sql = `SELECT ${plan.castColumns} FROM (${inner}) FORMAT Parquet`;
    await mkdir(dir, { recursive: true });
    try {
      const { stream } = await this.client.exec({
        query: sql,
        query_params: params.values,
        clickhouse_settings: { ...PARQUET_OUTPUT_SETTINGS, ...this.options.parquetSettings },
        ...(request.signal ? { abort_signal: request.signal } : {}),
      });
      await pipeline(stream, createWriteStream(temporary), ...(request.signal ? [{ signal: request.signal }] : []));
      const rewritten = await rewriteWithFieldIds(temporary, request.schema);
      await rename(temporary, path);
      const m = rewritten.metrics;
      return {
        filePath: path,
        fileFormat: 'PARQUET',
        partition: partition.values,
        recordCount: m.recordCount,
        fileSizeInBytes: rewritten.fileSizeInBytes,
        columnSizes: m.columnSizes,
        valueCounts: m.valueCounts,
        nullValueCounts: m.nullValueCounts,
        nanValueCounts: new Map(),
        lowerBounds: m.lowerBounds,
        upperBounds: m.upperBounds,
        splitOffsets: m.splitOffsets,
      };
    } catch (cause) {
      await rm(temporary, { force: true });
      throw this.wrap(plan, `writing ${path} failed`, cause);
    }
  }
}

/** Everything about a request that does not change from query to query. */
class WindowPlan {
  readonly from: string;
  readonly cursor: CursorColumns;
  readonly sourceColumns: string;
  readonly castColumns: string;
  readonly partitionExprs: readonly PartitionExpression[];

  constructor(readonly request: WriteWindowRequest) {
    const { table, schema, columns } = request;
    const types = new Map(columns.map((c) => [c.name, parseClickHouseType(c.type)]));
    const typeOf = (name: string) => {
      const type = types.get(name);
      if (!type) throw new ParquetWriteError(table.name, `cursor column ${name} is not among the offloaded columns`);
      return type;
    };
    typeOf(table.timestampColumn);
    typeOf(table.sequenceColumn);
    this.cursor = {
      timestamp: table.timestampColumn,
      sequence: table.sequenceColumn,
      tieBreakers: table.tieBreakerColumns.map((name) => ({ name, type: typeOf(name) })),
    };
    this.from = `${quoteClickHouseQualified(table.source)}${table.final ? ' FINAL' : ''}`;
    const expressions = new Map<number, string>();
    const casts = columns.map((c) => {
      const field = schema.fields.find((f) => f.name === c.name);
      if (!field) throw new ParquetWriteError(table.name, `column ${c.name} is not in Iceberg schema ${schema['schema-id']}`);
      const expression = selectExpression(c.name, field.type, types.get(c.name)!);
      expressions.set(field.id, expression);
      return `${expression} AS ${quoteClickHouse(c.name)}`;
    });
    this.sourceColumns = columns.map((c) => quoteClickHouse(c.name)).join(', ');
    this.castColumns = casts.join(', ');
    this.partitionExprs = partitionExpressions(
      request.partitionSpec,
      schema,
      (id) => expressions.get(id) ?? (() => {
        throw new ParquetWriteError(table.name, `partition source field ${id} is not an offloaded column`);
      })(),
      table.name,
    );
  }
}

/** The columns of a ClickHouse table in definition order, as the mapping needs them. */
export async function describeClickHouseColumns(client: ParquetQueryClient, source: QualifiedName, signal?: AbortSignal): Promise<ClickHouseColumn[]> {
  const result = await client.query({
    query: 'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
    format: 'JSONEachRow',
    query_params: { db: source.namespace, table: source.name },
    ...(signal ? { abort_signal: signal } : {}),
  });
  return result.json<ClickHouseColumn>();
}
