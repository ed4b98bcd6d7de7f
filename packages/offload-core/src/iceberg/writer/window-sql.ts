import { quoteClickHouse } from '../../identifiers/index.js';
import type { Cursor, CursorValue } from '../../watermark/cursor.js';
import type { OffloadWindow } from '../../watermark/window.js';
import { formatClickHouseType, unwrapClickHouseType } from '../schema-mapping/clickhouse-type.js';
import type { ClickHouseType } from '../schema-mapping/clickhouse-type.js';

/** The columns that order a table's rows, with the ClickHouse types of the tie-breakers. */
export interface CursorColumns {
  readonly timestamp: string;
  readonly sequence: string;
  readonly tieBreakers: readonly { readonly name: string; readonly type: ClickHouseType }[];
}

/**
 * Collects query parameters while SQL is assembled, so every value reaches
 * ClickHouse as a bound parameter and none is spliced into the text.
 */
export class QueryParams {
  readonly values: Record<string, string> = {};
  private count = 0;

  /** Returns `{pN:Type}` bound to `value`. */
  bind(type: string, value: CursorValue | number): string {
    const name = `p${this.count++}`;
    this.values[name] = String(value);
    return `{${name}:${type}}`;
  }

  /** A timestamp in microseconds as a DateTime64(6, 'UTC') expression. */
  micros(value: bigint): string {
    return `fromUnixTimestamp64Micro(${this.bind('Int64', value)}, 'UTC')`;
  }
}

function tieBreakerParamType(type: ClickHouseType): string {
  const inner = unwrapClickHouseType(type).type;
  // Enums compare with their labels; integers keep their width (a UInt64 does not fit Int64).
  return inner.kind === 'int' ? formatClickHouseType(inner) : 'String';
}

function cursorTuple(columns: CursorColumns, cursor: Cursor, params: QueryParams): { columns: string[]; values: string[] } {
  const names = [columns.timestamp, columns.sequence].map(quoteClickHouse);
  // Int128 holds every UInt64 and the initial cursor's -1.
  const values = [params.micros(cursor.timestampMicros), params.bind('Int128', cursor.sequence)];
  cursor.tieBreakers.forEach((value, i) => {
    const column = columns.tieBreakers[i];
    if (!column) throw new RangeError(`cursor has ${cursor.tieBreakers.length} tie-breakers, the table ${columns.tieBreakers.length}`);
    names.push(quoteClickHouse(column.name));
    values.push(params.bind(tieBreakerParamType(column.type), value));
  });
  return { columns: names, values };
}

/**
 * Rows strictly after `cursor`. A cursor with fewer tie-breakers than the
 * table (the initial one) sorts before every row sharing its prefix, so the
 * prefix comparison becomes inclusive.
 */
export function afterCursor(columns: CursorColumns, cursor: Cursor, params: QueryParams): string {
  const t = cursorTuple(columns, cursor, params);
  const op = cursor.tieBreakers.length < columns.tieBreakers.length ? '>=' : '>';
  return `(${t.columns.join(', ')}) ${op} (${t.values.join(', ')})`;
}

/**
 * Rows at or before `cursor` (a cursor read from a row, so with every
 * tie-breaker). The plain bound on the timestamp lets ClickHouse skip
 * granules by the sorting key, which the tuple comparison alone does not.
 */
export function atOrBeforeCursor(columns: CursorColumns, cursor: Cursor, params: QueryParams): string {
  const t = cursorTuple(columns, cursor, params);
  return `${quoteClickHouse(columns.timestamp)} <= ${params.micros(cursor.timestampMicros)} AND (${t.columns.join(', ')}) <= (${t.values.join(', ')})`;
}

/**
 * The window's rows: after the watermark cursor and with a timestamp at or
 * before `until`. The plain range on the timestamp lets ClickHouse use the
 * sorting key; the tuple comparison decides rows sharing the watermark's timestamp.
 */
export function windowPredicate(columns: CursorColumns, window: OffloadWindow, params: QueryParams): string {
  const ts = quoteClickHouse(columns.timestamp);
  return [
    `${ts} >= ${params.micros(window.after.timestampMicros)}`,
    `${ts} <= ${params.micros(window.untilMicros)}`,
    afterCursor(columns, window.after, params),
  ].join(' AND ');
}

/** The cursor columns in cursor order, quoted. */
function cursorColumnNames(columns: CursorColumns): string[] {
  return [columns.timestamp, columns.sequence, ...columns.tieBreakers.map((t) => t.name)].map(quoteClickHouse);
}

export function orderBy(columns: CursorColumns, direction: 'ASC' | 'DESC' = 'ASC'): string {
  return cursorColumnNames(columns).map((c) => `${c} ${direction}`).join(', ');
}

/** A row's timestamp in microseconds (Int64). */
export function timestampMicros(columns: CursorColumns): string {
  return microsOf(quoteClickHouse(columns.timestamp));
}

const microsOf = (timestamp: string) => `toUnixTimestamp64Micro(toDateTime64(${timestamp}, 6, 'UTC'))`;

/** The cursor's values as text (timestamps as microseconds), each from `value(column, i)`, the i-th cursor column's value. */
function cursorText(columns: CursorColumns, value: (column: string, i: number) => string): string {
  return cursorColumnNames(columns)
    .map((column, i) => (i === 0 ? `toString(${microsOf(value(column, i))})` : `toString(${value(column, i)})`))
    .join(', ');
}

/** The SELECT list that reads a row's cursor as text (timestamps as microseconds). */
export function cursorSelect(columns: CursorColumns): string {
  return cursorText(columns, (column) => column);
}

/**
 * An aggregate giving the cursor of the group's last row in cursor order,
 * as the tuple {@link cursorSelect} reads; it orders as `ORDER BY` does.
 * The greatest tuple of the raw columns, turned into text once per group:
 * `argMax` of the text would format every row of the window (a quarter of
 * the planning scan at 10M rows). The repeated aggregate is computed once.
 */
export function lastCursorAggregate(columns: CursorColumns): string {
  const last = `max(tuple(${cursorColumnNames(columns).join(', ')}))`;
  return `tuple(${cursorText(columns, (_, i) => `tupleElement(${last}, ${i + 1})`)})`;
}

/** Parses a row selected with {@link cursorSelect}. */
export function parseCursorRow(columns: CursorColumns, row: readonly string[]): Cursor {
  const [ts, seq, ...rest] = row;
  if (ts === undefined || seq === undefined) throw new RangeError(`cursor row has ${row.length} values`);
  return {
    timestampMicros: BigInt(ts),
    sequence: BigInt(seq),
    tieBreakers: rest.map((v, i) => (unwrapClickHouseType(columns.tieBreakers[i]!.type).type.kind === 'int' ? BigInt(v) : v)),
  };
}
