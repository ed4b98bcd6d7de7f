import type { TableConfig } from '../config/index.js';
import { OffloadError } from '../errors.js';
import { parseQualifiedName, quoteClickHouse, quoteClickHouseQualified, type QualifiedName } from '../identifiers/index.js';
import { INLINE_SQL_VALUES, clickHouseIcebergTable } from '../iceberg/io/clickhouse-files.js';
import type { StorageOptions } from '../iceberg/io/for-location.js';
import type { ClickHouseColumn } from '../iceberg/schema-mapping/evolve.js';
import { afterCursor, atOrBeforeCursor, QueryParams, type CursorColumns } from '../iceberg/writer/window-sql.js';
import type { Cursor } from '../watermark/cursor.js';

/** The view over both tiers: `<database>.<table>_all` beside the source table. */
export function boundaryViewName(table: TableConfig): QualifiedName {
  const source = parseQualifiedName(table.source);
  return { namespace: source.namespace, name: `${source.name}_all` };
}

/** Where ClickHouse reads the Iceberg table from, at one metadata file. */
export interface IcebergTableRef {
  /** The table's location: a local path, `file://` or `s3://` URI. */
  readonly location: string;
  /** The metadata file of the snapshot the boundary belongs to. */
  readonly metadataLocation: string;
}

export interface BoundaryViewSpec {
  readonly table: TableConfig;
  /** The offloaded source columns with their ClickHouse types; the view has exactly these. */
  readonly columns: readonly ClickHouseColumn[];
  readonly cursorColumns: CursorColumns;
  /** The committed watermark; `null` before the first commit (every row is hot). */
  readonly boundary: Cursor | null;
  /** The Iceberg table at the commit that set `boundary`; required with a boundary. */
  readonly iceberg: IcebergTableRef | null;
  /**
   * Directory a local path is written relative to: chdb confines table
   * functions to its working directory, a server to its `user_files_path`
   * (pass `undefined` there to write absolute paths).
   */
  readonly pathBase: string | undefined;
  /**
   * How ClickHouse reaches a table on object storage (`storage.s3`, its
   * `clickhouse.namedCollection` holding the credentials, so the view's
   * text carries none).
   */
  readonly storage: StorageOptions;
}

/**
 * A view's text cannot carry query parameters, so each bound value is
 * written as a typed literal; the predicates stay the runner's own
 * (`afterCursor`, `atOrBeforeCursor`), so the view and the offload agree on
 * which side of the boundary a row is.
 */
function inline(sql: string, params: QueryParams): string {
  return sql.replace(/\{(p\d+):([^}]+)\}/g, (_, name: string, type: string) => {
    const value = params.values[name];
    if (value === undefined) throw new OffloadError('internal', `unbound query parameter ${name}`);
    return `CAST(${INLINE_SQL_VALUES.bind('String', value)} AS ${type})`;
  });
}

/**
 * `CREATE OR REPLACE VIEW db.t_all`: the hot table's rows after the
 * boundary `UNION ALL` the Iceberg table's rows at or before it, with the
 * source's column names and types (Iceberg values cast back). Every row is
 * seen exactly once while the hot tier still holds the rows after the
 * boundary (which the TTL headroom watches).
 */
export function boundaryViewSql(spec: BoundaryViewSpec): string {
  const { table, cursorColumns, boundary } = spec;
  const names = spec.columns.map((c) => quoteClickHouse(c.name));
  const source = `${quoteClickHouseQualified(parseQualifiedName(table.source))}${table.final ? ' FINAL' : ''}`;
  const view = quoteClickHouseQualified(boundaryViewName(table));
  const hotSelect = `SELECT ${names.join(', ')} FROM ${source}`;
  if (boundary === null) return `CREATE OR REPLACE VIEW ${view} AS ${hotSelect}`;
  if (spec.iceberg === null) throw new OffloadError('internal', `${table.name}: a boundary needs the Iceberg table it was committed to`, { table: table.name });

  const hotParams = new QueryParams();
  const since = `${quoteClickHouse(cursorColumns.timestamp)} >= ${hotParams.micros(boundary.timestampMicros)}`;
  const hot = inline(`${hotSelect} WHERE ${since} AND ${afterCursor(cursorColumns, boundary, hotParams)}`, hotParams);

  const coldParams = new QueryParams();
  const casts = spec.columns.map((c) => `CAST(${quoteClickHouse(c.name)} AS ${c.type}) AS ${quoteClickHouse(c.name)}`);
  const iceberg = clickHouseIcebergTable(spec.iceberg.location, spec.storage, INLINE_SQL_VALUES, {
    metadataLocation: spec.iceberg.metadataLocation,
    ...(spec.pathBase === undefined ? {} : { pathBase: spec.pathBase }),
  });
  // Cast first, compare after: the boundary compares source-typed values, as in the hot table.
  const cold = inline(
    `SELECT ${names.join(', ')} FROM (SELECT ${casts.join(', ')} FROM ${iceberg}) WHERE ${atOrBeforeCursor(cursorColumns, boundary, coldParams)}`,
    coldParams,
  );
  return `CREATE OR REPLACE VIEW ${view} AS ${hot} UNION ALL ${cold}`;
}
