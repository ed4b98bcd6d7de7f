import type { TableConfig } from '../config/index.js';
import { parseQualifiedName, quoteClickHouse, quoteClickHouseQualified } from '../identifiers/index.js';
import type { ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import { QueryParams, afterCursor } from '../iceberg/writer/window-sql.js';
import { describeCursorColumns } from '../source/cursor-columns.js';
import type { Cursor } from '../watermark/cursor.js';
import { bucketSql, bucketStartMicros } from './buckets.js';
import type { Granularity } from './buckets.js';
import { ReconcileError } from './errors.js';

/** Rows of one bucket in ClickHouse, split at the watermark. */
export interface ClickHouseBucket {
  /** Rows at or before the watermark: the ones Iceberg should hold. */
  readonly committed: number;
  /** Rows after the watermark: not offloaded yet, so not missing. */
  readonly pending: number;
}

export interface ClickHouseCountRequest {
  readonly table: TableConfig;
  readonly granularity: Granularity;
  /** First bucket and the bucket after the last. */
  readonly first: number;
  readonly end: number;
  /** Rows after it are pending; `null` counts every row as committed. */
  readonly watermark: Cursor | null;
  readonly signal?: AbortSignal;
}

/**
 * Counts the source's rows per bucket of its timestamp column, with FINAL
 * when the table is read with FINAL (as the offload reads it). The
 * watermark comparison is the offload's own cursor predicate, so "pending"
 * means exactly "not yet in any window".
 */
export async function countClickHouse(client: ParquetQueryClient, request: ClickHouseCountRequest): Promise<Map<number, ClickHouseBucket>> {
  const { table, granularity } = request;
  const source = parseQualifiedName(table.source);
  const params = new QueryParams();
  const ts = quoteClickHouse(table.timestampColumn);
  const pending = request.watermark ? afterCursor(await describeCursorColumns(client, table, request.signal), request.watermark, params) : 'false';
  const from = params.micros(bucketStartMicros(request.first, granularity));
  const to = params.micros(bucketStartMicros(request.end, granularity));
  const sql = `SELECT toString(bucket), toString(countIf(NOT pending)), toString(countIf(pending))
    FROM (SELECT ${bucketSql(table.timestampColumn, granularity)} AS bucket, ${pending} AS pending
          FROM ${quoteClickHouseQualified(source)}${table.final ? ' FINAL' : ''}
          WHERE ${ts} >= ${from} AND ${ts} < ${to})
    GROUP BY bucket`;
  try {
    const result = await client.query({
      query: sql,
      format: 'JSONCompactEachRow',
      query_params: params.values,
      ...(request.signal ? { abort_signal: request.signal } : {}),
    });
    const rows = await result.json<[string, string, string]>();
    return new Map(rows.map(([bucket, committed, after]) => [Number(bucket), { committed: Number(committed), pending: Number(after) }]));
  } catch (cause) {
    if (request.signal?.aborted) throw cause;
    throw new ReconcileError(table.name, `counting ${table.source} failed`, { cause, retryable: true });
  }
}
