import { describe, expect, it } from 'vitest';
import { bucketHash, applyTransform, humanString, parseTransform } from '../src/iceberg/spec/transform.js';
import { decimalToBytes, valueFromBytes, valueToBytes } from '../src/iceberg/spec/values.js';
import { hashDouble } from '../src/iceberg/spec/murmur3.js';
import { bindPartitionSpec, partitionPath } from '../src/iceberg/spec/partition.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';
import { temporalPartitionRange } from '../src/iceberg/writer/partition-sql.js';

const micros = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

describe('bucket hash matches the spec appendix B test vectors', () => {
  it.each([
    ['int', 34, 2017239379],
    ['long', 34n, 2017239379],
    ['decimal(4, 2)', 1420n, -500754589],
    ['date', 17486, -653330422],
    ['time', 81068000000n, -662762989],
    ['timestamp', micros('2017-11-16T22:31:08Z'), -2047944441],
    ['timestamptz', micros('2017-11-16T22:31:08Z'), -2047944441],
    ['string', 'iceberg', 1210000089],
    ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 1488055340],
    ['fixed[4]', Uint8Array.of(0, 1, 2, 3), -188683207],
    ['binary', Uint8Array.of(0, 1, 2, 3), -188683207],
  ] as const)('%s', (type, value, expected) => {
    expect(bucketHash(type, value)).toBe(expected);
  });

  it('hashes floats and doubles through their double bits', () => {
    expect(hashDouble(1)).toBe(-142385009);
    expect(hashDouble(-0)).toBe(hashDouble(0));
  });

  it('bucket[N] is the non-negative hash modulo N', () => {
    expect(applyTransform(parseTransform('bucket[16]'), 'string', 'iceberg')).toBe((1210000089 & 0x7fffffff) % 16);
    expect(applyTransform(parseTransform('bucket[100]'), 'int', 34)).toBe(2017239379 % 100);
  });
});

describe('temporal and truncate transforms', () => {
  const ts = micros('2026-11-21T13:45:00Z');
  it('produce epoch-relative values and human strings', () => {
    const day = applyTransform({ kind: 'day' }, 'timestamp', ts);
    expect(humanString({ kind: 'day' }, 'date', day)).toBe('2026-11-21');
    const hour = applyTransform({ kind: 'hour' }, 'timestamptz', ts);
    expect(humanString({ kind: 'hour' }, 'int', hour)).toBe('2026-11-21-13');
    expect(humanString({ kind: 'month' }, 'int', applyTransform({ kind: 'month' }, 'timestamp', ts))).toBe('2026-11');
    expect(applyTransform({ kind: 'year' }, 'date', 20413)).toBe(2025 - 1970);
  });
  it('floor before the epoch', () => {
    expect(applyTransform({ kind: 'day' }, 'timestamp', -1n)).toBe(-1);
    expect(applyTransform({ kind: 'hour' }, 'timestamp', -1n)).toBe(-1);
    expect(applyTransform({ kind: 'month' }, 'date', -1)).toBe(-1);
  });
  it('truncate ints, longs, decimals and strings per the spec', () => {
    expect(applyTransform(parseTransform('truncate[10]'), 'int', -1)).toBe(-10);
    expect(applyTransform(parseTransform('truncate[10]'), 'long', 19n)).toBe(10n);
    expect(applyTransform(parseTransform('truncate[50]'), 'decimal(9, 2)', 1065n)).toBe(1050n);
    expect(applyTransform(parseTransform('truncate[3]'), 'string', 'iceberg')).toBe('ice');
  });
  it('builds partition paths like Iceberg', () => {
    const schema: IcebergSchema = {
      type: 'struct',
      'schema-id': 0,
      fields: [
        { id: 1, name: 'ts', required: true, type: 'timestamp' },
        { id: 2, name: 'sym', required: false, type: 'string' },
      ],
    };
    const bound = bindPartitionSpec(
      {
        'spec-id': 0,
        fields: [
          { 'source-id': 1, 'field-id': 1000, name: 'ts_day', transform: 'day' },
          { 'source-id': 2, 'field-id': 1001, name: 'sym', transform: 'identity' },
        ],
      },
      schema,
    );
    expect(partitionPath(bound, [applyTransform({ kind: 'day' }, 'timestamp', ts), 'BTC/USDT'])).toBe(
      'ts_day=2026-11-21/sym=BTC%2FUSDT',
    );
    expect(partitionPath(bound, [0, null])).toBe('ts_day=1970-01-01/sym=null');
  });
});

describe('the timestamps of a temporal partition', () => {
  // Bounds and their neighbours, before and after the epoch, a leap day, and a year end.
  const instants = ['1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00Z', '1968-02-29T12:00:00Z', '2024-02-29T23:59:59.999999Z', '2026-12-31T23:00:00Z', '2026-03-15T07:42:13.123456Z'];
  it.each(['year', 'month', 'day', 'hour'] as const)('%s: a timestamp is in the range of its own partition value and next to no other', (kind) => {
    const t = parseTransform(kind);
    for (const iso of instants) {
      const at = micros(iso) + (iso.endsWith('.999999Z') ? 999n : 0n);
      const value = applyTransform(t, 'timestamptz', at) as number;
      const range = temporalPartitionRange(kind, String(value))!;
      expect(at >= range.start && at < range.end, `${iso} in ${kind} ${value}`).toBe(true);
      expect(applyTransform(t, 'timestamptz', range.start)).toBe(value);
      expect(applyTransform(t, 'timestamptz', range.end - 1n)).toBe(value);
      expect(applyTransform(t, 'timestamptz', range.end)).toBe(value + 1);
      expect(applyTransform(t, 'timestamptz', range.start - 1n)).toBe(value - 1);
    }
  });

  it('is undefined for transforms that are not a time range', () => {
    expect(temporalPartitionRange('identity', '3')).toBeUndefined();
    expect(temporalPartitionRange('bucket', '3')).toBeUndefined();
  });
});

describe('single-value serialisation', () => {
  it.each([
    ['boolean', true, '01'],
    ['int', 1, '01000000'],
    ['long', 1n, '0100000000000000'],
    ['double', 50000, '00000000006ae840'],
    ['date', 17486, '4e440000'],
    ['timestamp', 1n, '0100000000000000'],
    ['string', 'BTC/USDT', Buffer.from('BTC/USDT').toString('hex')],
    ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09677c4bbda4793f349cb785e7'],
    ['decimal(9, 2)', -1n, 'ff'],
    ['decimal(9, 2)', 128n, '0080'],
  ] as const)('%s %s', (type, value, hex) => {
    const bytes = valueToBytes(type, value);
    expect(Buffer.from(bytes).toString('hex')).toBe(hex);
    expect(valueFromBytes(type, bytes)).toEqual(value);
  });
  it('encodes decimals in the fewest bytes', () => {
    expect(Buffer.from(decimalToBytes(-129n)).toString('hex')).toBe('ff7f');
    expect(Buffer.from(decimalToBytes(127n)).toString('hex')).toBe('7f');
    expect(Buffer.from(decimalToBytes(0n)).toString('hex')).toBe('00');
  });
});
