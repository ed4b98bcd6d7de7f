/**
 * The object-storage measurements, against an S3 server (moto) the bench
 * starts: (f) ClickHouse writing the window to S3 itself, (g) Coldtier's
 * server-side export, (h) Coldtier's stream export. The catalog is the
 * filesystem (Hadoop) catalog on the same bucket, with `If-None-Match`
 * commits, or with `--catalog rest` the Iceberg project's REST catalog
 * server (its JVM shares the machine; it adds a process and a commit per
 * run that do not move with the export mode).
 */
import { performance } from 'node:perf_hooks';
import type { ClickHouseClient } from '@clickhouse/client';
import { FilesystemCatalog, INLINE_SQL_VALUES, PARQUET_OUTPUT_SETTINGS, RestCatalog, S3FileIO, clickHouseParquetFile } from '@coldtier/offload-core';
import type { Catalog, S3StorageOptions, StorageOptions } from '@coldtier/offload-core';
import { WINDOW_QUERY } from './bronze.js';

/** The named collection the bench creates on the ClickHouse server (a bench's own moto keys, not a secret). */
export const BENCH_COLLECTION = 'coldtier_bench_s3';
/** Passed to each measurement process: the moto endpoint and the prefix it writes under. */
export const S3_ENDPOINT_ENV = 'BENCH_S3_ENDPOINT';
export const S3_PREFIX_ENV = 'BENCH_S3_PREFIX';
/** Set when the measurements commit through the REST catalog server at this URI. */
export const REST_URI_ENV = 'BENCH_REST_URI';
export const BENCH_BUCKET = 'bench';
/** The REST catalog server's warehouse bucket. */
export const REST_WAREHOUSE_BUCKET = 'bench-warehouse';

export interface ObjectStoreTarget {
  readonly storage: StorageOptions & { readonly s3: S3StorageOptions };
  /** `s3://bench/<prefix>`: this measurement's own prefix. */
  readonly root: string;
  /** This measurement's own namespace (the REST catalog outlives a measurement). */
  readonly namespace: string;
}

/** The target the parent process chose for this measurement, from the environment. */
export function objectStoreTarget(stagingDir: string): ObjectStoreTarget {
  const endpoint = process.env[S3_ENDPOINT_ENV];
  const prefix = process.env[S3_PREFIX_ENV];
  if (!endpoint || !prefix) throw new Error(`${S3_ENDPOINT_ENV} and ${S3_PREFIX_ENV} must be set for the object-store measurements`);
  return {
    storage: { s3: { endpoint, region: 'us-east-1', pathStyle: true, stagingDir, clickhouse: { namedCollection: BENCH_COLLECTION } } },
    root: `s3://${BENCH_BUCKET}/${prefix}`,
    namespace: `cold_${prefix.replace(/[^A-Za-z0-9]/g, '_')}`,
  };
}

/** Lets the ClickHouse server reach moto: what an operator does once (`IF NOT EXISTS`: the server's data directory outlives a round). */
export async function createBenchCollection(client: ClickHouseClient, accessKeyId: string, secretAccessKey: string): Promise<void> {
  await client.command({ query: `CREATE NAMED COLLECTION IF NOT EXISTS ${BENCH_COLLECTION} AS access_key_id = '${accessKeyId}', secret_access_key = '${secretAccessKey}'` });
}

/** (f) ClickHouse's own export of the window to one object: `INSERT INTO FUNCTION s3(...) SELECT ...` with Coldtier's Parquet settings. */
export async function clickhouseToS3(client: ClickHouseClient, target: ObjectStoreTarget): Promise<{ seconds: number; bytes: number; files: number }> {
  const location = `${target.root}/window.parquet`;
  const start = performance.now();
  await client.command({
    query: `INSERT INTO FUNCTION ${clickHouseParquetFile(location, target.storage, INLINE_SQL_VALUES)} ${WINDOW_QUERY}`,
    clickhouse_settings: PARQUET_OUTPUT_SETTINGS,
  });
  const seconds = (performance.now() - start) / 1000;
  const [object] = await new S3FileIO(target.storage.s3).listRecursive(target.root);
  return { seconds, bytes: object?.sizeBytes ?? 0, files: object ? 1 : 0 };
}

/** The catalog Coldtier commits to in (g) and (h). */
export function objectStoreCatalog(target: ObjectStoreTarget): Catalog {
  const io = new S3FileIO(target.storage.s3);
  const rest = process.env[REST_URI_ENV];
  return rest ? new RestCatalog({ uri: rest, io }) : new FilesystemCatalog({ warehouse: target.root, io });
}

/** Empties the bench's buckets between measurements, so moto's memory holds one measurement's objects at most. */
export async function emptyBuckets(io: S3FileIO): Promise<void> {
  for (const bucket of [BENCH_BUCKET, REST_WAREHOUSE_BUCKET]) {
    const objects = await io.listRecursive(`s3://${bucket}/`).catch(() => []);
    for (const o of objects) await io.delete(o.location);
  }
}

/** Parquet objects under a table's location (data files; ClickHouse's staged objects are gone by then). */
export async function parquetObjects(target: ObjectStoreTarget, location: string): Promise<number> {
  return (await new S3FileIO(target.storage.s3).listRecursive(location)).filter((o) => o.location.endsWith('.parquet')).length;
}
