import { describe, expect, it } from 'vitest';
import { compareCursors, cursorFromJson, cursorToJson, formatMicros, parseMicros } from '../src/index.js';

describe('cursor instants', () => {
  it('keeps microseconds through parse and format', () => {
    const micros = parseMicros('2026-11-21T14:07:00.123456Z');
    expect(micros).toBe(BigInt(Date.UTC(2026, 10, 21, 14, 7, 0)) * 1000n + 123_456n);
    expect(formatMicros(micros)).toBe('2026-11-21T14:07:00.123456Z');
    expect(parseMicros('2026-11-21T15:07:00.5+01:00')).toBe(parseMicros('2026-11-21T14:07:00.500000Z'));
  });

  it('refuses instants without a zone and calendar dates that do not exist', () => {
    expect(() => parseMicros('2026-11-21T14:07:00')).toThrow(RangeError);
    expect(() => parseMicros('2026-02-30T00:00:00Z')).toThrow(/not a valid instant/);
    expect(() => parseMicros('2026-11-21T24:30:00Z')).toThrow(/not a valid instant/);
  });
});

describe('cursor order', () => {
  const at = (sequence: bigint, ...tieBreakers: (bigint | string)[]) => ({ timestampMicros: 5n, sequence, tieBreakers });

  it('compares (timestamp, sequence, tie-breakers) lexicographically', () => {
    expect(compareCursors(at(5n), at(9n))).toBe(-1);
    expect(compareCursors({ ...at(9n), timestampMicros: 6n }, at(1n))).toBe(1);
    expect(compareCursors(at(5n, 'binance'), at(5n, 'kraken'))).toBe(-1);
    expect(compareCursors(at(5n), at(5n, 'binance'))).toBe(-1);
    expect(compareCursors(at(5n, 2n), at(5n, 10n))).toBe(-1);
  });

  it('round-trips through JSON with bigint tie-breakers intact', () => {
    const cursor = { timestampMicros: parseMicros('2026-11-21T14:07:00.000001Z'), sequence: 18446744073709551615n, tieBreakers: [7n, 'BTC/USDT'] };
    const json = JSON.parse(JSON.stringify(cursorToJson(cursor)));
    expect(cursorFromJson(json)).toEqual(cursor);
  });
});
