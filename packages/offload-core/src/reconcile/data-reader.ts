import type { ClickHouseClient } from '@clickhouse/client';
import { quoteClickHouse } from '../identifiers/index.js';
import { clickHouseParquetFile } from '../iceberg/io/clickhouse-files.js';
import type { StorageOptions } from '../iceberg/io/for-location.js';
import { QueryParams } from '../iceberg/writer/window-sql.js';
import { bucketSql, bucketStartMicros } from './buckets.js';
import type { Granularity } from './buckets.js';

/** What to count in a table's data files. */
export interface DataReadRequest {
  /** Locations of the live data files to read (paths, `file:` or `s3://` URIs). */
  readonly files: readonly string[];
  readonly timestampColumn: string;
  /** The cursor columns after the timestamp (sequence, tie-breakers): with it, one row's identity. */
  readonly keyColumns: readonly string[];
  readonly granularity: Granularity;
  /** Only buckets [first, end) are counted. */
  readonly first: number;
  readonly end: number;
  readonly signal?: AbortSignal;
}

/** Rows of one bucket as found in the data files. */
export interface DataBucket {
  readonly bucket: number;
  readonly rows: number;
  /** Copies beyond the first of every cursor key seen more than once. */
  readonly duplicates: number;
}

/**
 * Reads a table's data files to count rows per bucket and repeated cursor
 * keys. Only needed when the manifests cannot answer (the spec is not
 * partitioned by day or hour of the timestamp) or when duplicates must be
 * told apart from unexplained extra rows.
 */
export interface IcebergDataReader {
  countRows(request: DataReadRequest): Promise<DataBucket[]>;
}

/**
 * An {@link IcebergDataReader} on a ClickHouse that can open the files:
 * local Parquet with `file()` (an embedded chdb, or a server on the same
 * disk), or objects on S3 with `s3()` through `storage.s3.clickhouse`'s
 * named collection (see `clickHouseParquetFile`). Every file is one source
 * of a UNION ALL, so duplicates are found across files, which is where a
 * double commit puts them.
 */
export class ClickHouseDataReader implements IcebergDataReader {
  constructor(
    private readonly client: Pick<ClickHouseClient, 'query'>,
    /** How ClickHouse reaches object storage; needed for `s3://` files only. */
    private readonly storage: StorageOptions = {},
  ) {}

  async countRows(request: DataReadRequest): Promise<DataBucket[]> {
    if (request.files.length === 0) return [];
    const params = new QueryParams();
    const ts = quoteClickHouse(request.timestampColumn);
    const keys = [ts, ...request.keyColumns.map(quoteClickHouse)];
    const sources = request.files
      .map((f) => `SELECT ${keys.join(', ')} FROM ${clickHouseParquetFile(f, this.storage, params)}`)
      .join(' UNION ALL ');
    const from = params.micros(bucketStartMicros(request.first, request.granularity));
    const to = params.micros(bucketStartMicros(request.end, request.granularity));
    const sql = `SELECT toString(bucket), toString(sum(copies)), toString(sum(copies - 1))
      FROM (SELECT ${bucketSql(request.timestampColumn, request.granularity)} AS bucket, count() AS copies
            FROM (${sources}) WHERE ${ts} >= ${from} AND ${ts} < ${to}
            GROUP BY bucket, ${keys.join(', ')})
      GROUP BY bucket`;
    const result = await this.client.query({
      query: sql,
      format: 'JSONCompactEachRow',
      query_params: params.values,
      ...(request.signal ? { abort_signal: request.signal } : {}),
    });
    const rows = await result.json<[string, string, string]>();
    return rows.map(([bucket, count, duplicates]) => ({ bucket: Number(bucket), rows: Number(count), duplicates: Number(duplicates) }));
  }
}
