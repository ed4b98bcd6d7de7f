import { OffloadError } from '../../errors.js';
import { quoteClickHouse, quoteClickHouseQualified } from '../../identifiers/index.js';
import type { QualifiedName } from '../../identifiers/index.js';
import type { Cursor } from '../../watermark/cursor.js';
import type { OffloadWindow } from '../../watermark/window.js';
import { parseClickHouseType, unwrapClickHouseType } from '../schema-mapping/clickhouse-type.js';
import type { ClickHouseColumn } from '../schema-mapping/evolve.js';
import { selectExpression } from '../schema-mapping/type-mapping.js';
import type { PartitionValue } from '../spec/data-file.js';
import type { FileIO } from '../io/file-io.js';
import type { PartitionSpec } from '../spec/partition.js';
import type { IcebergSchema } from '../spec/types.js';
import { findFieldById } from '../spec/schema.js';
import { partitionExpressions, temporalPartitionRange } from './partition-sql.js';
import type { PartitionExpression } from './partition-sql.js';
import { windowPredicate } from './window-sql.js';
import type { CursorColumns, QueryParams } from './window-sql.js';

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
  /** The Iceberg table's location (a path or URI); files go under `data/`. */
  readonly tableLocation: string;
  /** The storage of `tableLocation`. Default the local filesystem. */
  readonly io?: FileIO;
  /** Unique per run: file names start with it, so a retried run never overwrites a committed file. */
  readonly runId: string;
  readonly signal?: AbortSignal;
}

/** A ClickHouse query or file step of the writer failed. */
export class ParquetWriteError extends OffloadError {
  constructor(table: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('internal', `${table}: ${message}`, { table, ...options });
  }
}

/** Writing a data file ran out of space; carries `code: 'ENOSPC'` like the filesystem error it stands for. Not retryable. */
export class DiskFullError extends ParquetWriteError {
  readonly code = 'ENOSPC';
  constructor(table: string, message: string, options: { cause?: unknown } = {}) {
    super(table, `disk full (ENOSPC): ${message}`, { ...options, retryable: false });
  }
}

/** One Iceberg partition the window touches. */
export interface WindowPartition {
  readonly values: readonly PartitionValue[];
  /** The values as ClickHouse printed them, to filter the partition's rows by. */
  readonly texts: readonly (string | null)[];
  readonly path: string;
  readonly rows: number;
  /** Cursor of the partition's last row in the window. */
  readonly last: Cursor;
  /** Timestamps (µs) at the partition's quantiles 1/128 … 127/128, ascending. */
  readonly quantiles: readonly bigint[];
}

/** Everything about a request that does not change from query to query. */
export class WindowPlan {
  readonly from: string;
  readonly cursor: CursorColumns;
  readonly sourceColumns: string;
  readonly castColumns: string;
  readonly partitionExprs: readonly PartitionExpression[];
  /** Per partition field: whether a partition of it is selected by its time range (see `filter`). */
  readonly #byTimeRange: readonly boolean[];

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
    this.#byTimeRange = this.partitionExprs.map((p) => this.#onCursorTimestamp(p));
  }

  /** The window's rows of `partition`. */
  filter(partition: WindowPartition, params: QueryParams): string {
    const parts = [windowPredicate(this.cursor, this.request.window, params)];
    const ts = quoteClickHouse(this.cursor.timestamp);
    this.partitionExprs.forEach((p, i) => {
      const text = partition.texts[i];
      const range = text === null || text === undefined || !this.#byTimeRange[i] ? undefined : temporalPartitionRange(p.bound.transform.kind, text);
      if (range) parts.push(`${ts} >= ${params.micros(range.start)} AND ${ts} < ${params.micros(range.end)}`);
      else parts.push(text === null || text === undefined ? `isNull(${p.sql})` : `${p.sql} = ${params.bind('String', text)}`);
    });
    return parts.join(' AND ');
  }

  /**
   * Whether the partition field transforms the cursor's timestamp column as
   * stored: a DateTime or a DateTime64 of at most microseconds, which the
   * cast to microseconds keeps exact (a finer one could round a row across
   * a partition bound).
   */
  #onCursorTimestamp(p: PartitionExpression): boolean {
    const source = findFieldById(this.request.schema, p.bound.field['source-id']);
    if (source?.name !== this.cursor.timestamp) return false;
    const column = this.request.columns.find((c) => c.name === source.name);
    const type = column && unwrapClickHouseType(parseClickHouseType(column.type)).type;
    return type?.kind === 'dateTime' || (type?.kind === 'dateTime64' && type.precision <= 6);
  }
}
