/**
 * A watermark is a cursor: the sort key of the last row offloaded, compared
 * lexicographically as (timestamp, sequence, ...tieBreakers). The next window
 * starts strictly after it, so rows sharing the watermark's timestamp are
 * neither lost nor repeated — provided the cursor identifies one row. That is
 * a property of the source data (see `checkCursorUniqueness` in the runner
 * folder); Coldtier cannot enforce it, only check it.
 */
export type CursorValue = bigint | string;

export interface Cursor {
  /** Microseconds since the Unix epoch, UTC. */
  readonly timestampMicros: bigint;
  /** Value of the sequence column (an integer column; UInt64 fits in a bigint). */
  readonly sequence: bigint;
  /** Values of the table's tie-breaker columns, in configured order. */
  readonly tieBreakers: readonly CursorValue[];
}

/** The cursor before any row: 1970-01-01, sequence 0 with nothing smaller (the reference's initial watermark). */
export const INITIAL_CURSOR: Cursor = Object.freeze({ timestampMicros: 0n, sequence: -1n, tieBreakers: Object.freeze([]) as readonly CursorValue[] });

function compareValues(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Lexicographic comparison; a missing tie-breaker sorts before any value. */
export function compareCursors(a: Cursor, b: Cursor): -1 | 0 | 1 {
  const head = compareValues(a.timestampMicros, b.timestampMicros) || compareValues(a.sequence, b.sequence);
  if (head !== 0) return head < 0 ? -1 : 1;
  const n = Math.max(a.tieBreakers.length, b.tieBreakers.length);
  for (let i = 0; i < n; i++) {
    const x = a.tieBreakers[i];
    const y = b.tieBreakers[i];
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : -1) : 1;
    const c = compareValues(x, y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export function cursorsEqual(a: Cursor, b: Cursor): boolean {
  return compareCursors(a, b) === 0;
}

/** Microseconds since epoch → `2026-11-21T14:07:00.123456Z`. */
export function formatMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = ((micros % 1000n) + 1000n) % 1000n;
  const iso = new Date(Number(ms - (micros < 0n && rest !== 0n ? 1n : 0n))).toISOString();
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** Parses an ISO-8601 instant with up to microsecond precision into microseconds since epoch. */
export function parseMicros(text: string): bigint {
  const match = /^((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}))(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!match) throw new RangeError(`not an ISO-8601 instant with zone: ${JSON.stringify(text)}`);
  // Date.parse rolls 2026-02-30 over into March; a calendar date must exist as written.
  const [y, mo, d, h, mi, se] = match.slice(2, 8).map(Number) as [number, number, number, number, number, number];
  const asWritten = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  if (asWritten.getUTCDate() !== d || asWritten.getUTCMonth() !== mo - 1 || asWritten.getUTCHours() !== h || asWritten.getUTCMinutes() !== mi) {
    throw new RangeError(`not a valid instant: ${JSON.stringify(text)}`);
  }
  const seconds = Date.parse(`${match[1]}${match[9]}`);
  if (Number.isNaN(seconds)) throw new RangeError(`not a valid instant: ${JSON.stringify(text)}`);
  const fraction = (match[8] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(seconds) * 1000n + BigInt(fraction);
}

export function microsFromDate(date: Date): bigint {
  return BigInt(date.getTime()) * 1000n;
}

export function dateFromMicros(micros: bigint): Date {
  return new Date(Number(micros / 1000n));
}

/** A JSON-safe form of a cursor (bigints as decimal strings), for logs, events and snapshot properties. */
export interface CursorJson {
  readonly timestamp: string;
  readonly sequence: string;
  readonly tieBreakers: readonly string[];
}

export function cursorToJson(cursor: Cursor): CursorJson {
  return {
    timestamp: formatMicros(cursor.timestampMicros),
    sequence: cursor.sequence.toString(),
    tieBreakers: cursor.tieBreakers.map((v) => (typeof v === 'bigint' ? `${v}n` : v)),
  };
}

export function cursorFromJson(json: CursorJson): Cursor {
  return {
    timestampMicros: parseMicros(json.timestamp),
    sequence: BigInt(json.sequence),
    tieBreakers: json.tieBreakers.map((v) => (/^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)),
  };
}

export function formatCursor(cursor: Cursor): string {
  const tail = cursor.tieBreakers.length ? `, ${cursor.tieBreakers.map(String).join(', ')}` : '';
  return `(${formatMicros(cursor.timestampMicros)}, ${cursor.sequence}${tail})`;
}
