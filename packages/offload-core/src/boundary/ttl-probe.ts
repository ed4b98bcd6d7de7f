import type { TableConfig } from '../config/index.js';
import { parseQualifiedName, quoteClickHouse, quoteClickHouseQualified } from '../identifiers/index.js';
import type { ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import { afterCursor, orderBy, QueryParams, type CursorColumns } from '../iceberg/writer/window-sql.js';
import type { Cursor } from '../watermark/cursor.js';
import { UnknownTableError } from '../errors.js';
import type { TtlProbe } from './ttl-headroom.js';
import { parseTtlDeleteRules, type TtlDeleteRule } from './ttl-rules.js';

export interface TtlProbeRequest {
  readonly client: ParquetQueryClient;
  readonly table: TableConfig;
  readonly columns: CursorColumns;
  /** The committed watermark: rows after it are not yet in Iceberg. */
  readonly watermark: Cursor;
  readonly signal?: AbortSignal;
}

/** A rule's deadline for the row as unix seconds, or NULL where its WHERE excludes the row. */
function deadlineSql(rule: TtlDeleteRule): string {
  const at = `toInt64(toUnixTimestamp(toDateTime(${rule.expression})))`;
  return rule.where === undefined ? at : `if(${rule.where}, ${at}, NULL)`;
}

async function rows<T>(request: TtlProbeRequest, query: string, query_params: Record<string, string>): Promise<T[]> {
  const result = await request.client.query({
    query,
    format: 'JSONEachRow',
    query_params,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    ...(request.signal ? { abort_signal: request.signal } : {}),
  });
  return result.json<T>();
}

/**
 * Reads the table's row TTL (`system.tables`), its parts' earliest TTL
 * (`system.parts`) and, in ClickHouse, evaluates the TTL rules on the first
 * row after the watermark, so the deadline is ClickHouse's own arithmetic
 * (time zones, intervals, functions) rather than a re-implementation.
 */
export async function probeTtl(request: TtlProbeRequest): Promise<TtlProbe> {
  const { table } = request;
  const source = parseQualifiedName(table.source);
  const byName = { db: source.namespace, table: source.name };
  const [meta] = await rows<{ engine_full: string; now: number }>(
    request,
    'SELECT engine_full, toInt64(toUnixTimestamp(now())) AS now FROM system.tables WHERE database = {db:String} AND name = {table:String}',
    byName,
  );
  if (!meta) throw new UnknownTableError(table.name, `${table.source} does not exist in ClickHouse`);
  const rules = parseTtlDeleteRules(meta.engine_full);
  if (rules.length === 0) return { table: table.name, rules, pendingDeleteAt: null, earliestPartDeleteAt: null, probedAt: meta.now };

  const [parts] = await rows<{ earliest: number }>(
    request,
    'SELECT toInt64(min(toUnixTimestamp(delete_ttl_info_min))) AS earliest FROM system.parts' +
      ' WHERE database = {db:String} AND table = {table:String} AND active AND delete_ttl_info_min > 0',
    byName,
  );
  const params = new QueryParams();
  // The plain timestamp bound lets ClickHouse skip granules by the sorting key.
  const since = `${quoteClickHouse(request.columns.timestamp)} >= ${params.micros(request.watermark.timestampMicros)}`;
  const where = `${since} AND ${afterCursor(request.columns, request.watermark, params)}`;
  const [pending] = await rows<{ deadlines: (number | null)[] }>(
    request,
    `SELECT [${rules.map(deadlineSql).join(', ')}] AS deadlines FROM ${quoteClickHouseQualified(source)}${table.final ? ' FINAL' : ''}` +
      ` WHERE ${where} ORDER BY ${orderBy(request.columns)} LIMIT 1`,
    params.values,
  );
  const deadlines = (pending?.deadlines ?? []).filter((d): d is number => d !== null);
  return {
    table: table.name,
    rules,
    pendingDeleteAt: deadlines.length === 0 ? null : Math.min(...deadlines),
    earliestPartDeleteAt: parts && parts.earliest > 0 ? parts.earliest : null,
    probedAt: meta.now,
  };
}
