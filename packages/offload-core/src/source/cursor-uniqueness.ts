import type { TableConfig } from '../config/index.js';
import { parseQualifiedName, quoteClickHouse, quoteClickHouseQualified } from '../identifiers/index.js';
import type { ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import { QueryParams, cursorSelect, orderBy, parseCursorRow, windowPredicate } from '../iceberg/writer/window-sql.js';
import type { Cursor } from '../watermark/cursor.js';
import type { OffloadWindow } from '../watermark/window.js';
import { describeCursorColumns } from './cursor-columns.js';

/** A cursor value that more than one source row shares. */
export interface DuplicateCursor {
  readonly cursor: Cursor;
  readonly rows: number;
}

export interface CursorUniqueness {
  readonly table: string;
  /** True when no two rows (in the window, if one was given) share a cursor. */
  readonly unique: boolean;
  /** Up to `limit` shared cursors, smallest first. */
  readonly duplicates: readonly DuplicateCursor[];
}

export interface CursorUniquenessOptions {
  readonly client: ParquetQueryClient;
  readonly table: TableConfig;
  /** Restrict the check to one window; the whole table by default. */
  readonly window?: OffloadWindow;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/**
 * Checks the promise the watermark rests on: (timestamp, sequence,
 * ...tieBreakers) identifies one row. Rows sharing a cursor are offloaded
 * together only if they land in the same window; one arriving after the
 * watermark reached their shared cursor is never offloaded. Reads with FINAL
 * when the table is configured so, as the offload does.
 */
export async function checkCursorUniqueness(options: CursorUniquenessOptions): Promise<CursorUniqueness> {
  const { client, table, window, limit = 10, signal } = options;
  const source = parseQualifiedName(table.source);
  const cursor = await describeCursorColumns(client, table, signal);
  const params = new QueryParams();
  const keys = [cursor.timestamp, cursor.sequence, ...cursor.tieBreakers.map((t) => t.name)].map(quoteClickHouse);
  const where = window ? `WHERE ${windowPredicate(cursor, window, params)}` : '';
  const query = `SELECT ${cursorSelect(cursor)}, toString(count()) AS rows
    FROM ${quoteClickHouseQualified(source)}${table.final ? ' FINAL' : ''}
    ${where}
    GROUP BY ${keys.join(', ')}
    HAVING count() > 1
    ORDER BY ${orderBy(cursor)}
    LIMIT ${params.bind('UInt32', limit)}`;
  const result = await client.query({
    query,
    format: 'JSONCompactEachRow',
    query_params: params.values,
    ...(signal ? { abort_signal: signal } : {}),
  });
  const rows = await result.json<string[]>();
  const duplicates = rows.map((row) => ({ cursor: parseCursorRow(cursor, row.slice(0, -1)), rows: Number(row.at(-1)) }));
  return { table: table.name, unique: duplicates.length === 0, duplicates };
}
