import { quoteClickHouse } from '../identifiers/index.js';

/** The width of a reconciliation range. */
export type Granularity = 'day' | 'hour';

const MICROS_PER_BUCKET: Readonly<Record<Granularity, bigint>> = {
  day: 86_400_000_000n,
  hour: 3_600_000_000n,
};

/**
 * Buckets are numbered like Iceberg's `day`/`hour` transforms: whole days or
 * hours since 1970-01-01T00:00Z, floored, so a partition value of the table's
 * spec is directly a bucket number.
 */
export function bucketOfMicros(micros: bigint, granularity: Granularity): number {
  const size = MICROS_PER_BUCKET[granularity];
  const q = micros / size;
  return Number(micros < 0n && q * size !== micros ? q - 1n : q);
}

export function bucketStartMicros(bucket: number, granularity: Granularity): bigint {
  return BigInt(bucket) * MICROS_PER_BUCKET[granularity];
}

/** The buckets covering [from, to): `from` floored, `to` rounded up to a bucket boundary. */
export function bucketSpan(from: Date, to: Date, granularity: Granularity): { first: number; end: number } {
  const toMicros = BigInt(to.getTime()) * 1000n;
  const last = bucketOfMicros(toMicros, granularity);
  return {
    first: bucketOfMicros(BigInt(from.getTime()) * 1000n, granularity),
    end: bucketStartMicros(last, granularity) === toMicros ? last : last + 1,
  };
}

/** Hours since the epoch → days since the epoch (for an `hour` partition read at day granularity). */
export function hourToDay(hour: number): number {
  return Math.floor(hour / 24);
}

/** ClickHouse SQL numbering a timestamp column's rows with {@link bucketOfMicros}. */
export function bucketSql(column: string, granularity: Granularity): string {
  const micros = `toUnixTimestamp64Micro(toDateTime64(${quoteClickHouse(column)}, 6, 'UTC'))`;
  const size = MICROS_PER_BUCKET[granularity];
  return `toInt64(intDiv(${micros} - if(${micros} < 0, ${size - 1n}, 0), ${size}))`;
}
