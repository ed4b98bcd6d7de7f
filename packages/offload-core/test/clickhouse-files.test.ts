import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, startClickHouseServer, startS3Server } from '@coldtier/test-support';
import type { ClickHouseTestServer, S3Server, TempDir } from '@coldtier/test-support';
import { OffloadError } from '../src/errors.js';
import { INLINE_SQL_VALUES, clickHouseIcebergTable, clickHouseObjectUrl, clickHouseParquetFile } from '../src/iceberg/io/clickhouse-files.js';
import { S3FileIO } from '../src/iceberg/io/s3.js';
import { QueryParams } from '../src/iceberg/writer/window-sql.js';

const s3 = { region: 'eu-west-1', pathStyle: true, endpoint: 'http://127.0.0.1:9000', clickhouse: { namedCollection: 'lake_creds' } };

describe('clickHouseParquetFile: the SQL', () => {
  it('binds the named collection, the object URL and the structure as parameters on S3', () => {
    const params = new QueryParams();
    const sql = clickHouseParquetFile('s3a://lake/w/t/data/a.parquet', { s3 }, params, { structure: 'n UInt64' });
    expect(sql).toBe("s3({p0:Identifier}, url = {p1:String}, format = 'Parquet', structure = {p2:String})");
    expect(params.values).toEqual({ p0: 'lake_creds', p1: 'http://127.0.0.1:9000/lake/w/t/data/a.parquet', p2: 'n UInt64' });
  });

  it('reaches the store at the endpoint ClickHouse uses, path-style or virtual-host, keeping an endpoint path', () => {
    const other = { ...s3, clickhouse: { namedCollection: 'c', endpoint: 'http://minio.internal:9000' } };
    expect(clickHouseObjectUrl('s3://lake/k.parquet', other)).toBe('http://minio.internal:9000/lake/k.parquet');
    expect(clickHouseObjectUrl('s3://lake/k.parquet', { ...s3, endpoint: 'https://gw.example/s3/' })).toBe('https://gw.example/s3/lake/k.parquet');
    expect(clickHouseObjectUrl('s3://lake/a/k.parquet', { region: 'eu-west-1' })).toBe('https://lake.s3.eu-west-1.amazonaws.com/a/k.parquet');
    expect(clickHouseObjectUrl('s3://lake/k.parquet', { ...s3, pathStyle: false, endpoint: 'https://s3.example:8443' })).toBe('https://lake.s3.example:8443/k.parquet');
  });

  it('escapes every key byte ClickHouse would decode or glob, so the URL names exactly the object FileIO wrote', () => {
    const url = clickHouseObjectUrl("s3://lake/data/symbol=BTC%2FUSD/x+y/it's a {b,c}*?.parquet", s3);
    expect(url).toBe('http://127.0.0.1:9000/lake/data/symbol%3DBTC%252FUSD/x%2By/it%27s%20a%20%7Bb%2Cc%7D%2A%3F.parquet');
  });

  it('writes file() with the local path, from a file:// URI too', () => {
    const params = new QueryParams();
    expect(clickHouseParquetFile('file:///tmp/w/a%20b.parquet', {}, params)).toBe("file({p0:String}, 'Parquet')");
    expect(params.values).toEqual({ p0: '/tmp/w/a b.parquet' });
    expect(clickHouseParquetFile("/tmp/it's\\x.parquet", {}, INLINE_SQL_VALUES, { structure: 'n UInt64' })).toBe("file('/tmp/it\\'s\\\\x.parquet', 'Parquet', 'n UInt64')");
  });

  it('quotes inline values for text that cannot carry parameters, refusing an identifier that is not plain', () => {
    expect(clickHouseParquetFile('s3://lake/k.parquet', { s3 }, INLINE_SQL_VALUES)).toBe("s3(`lake_creds`, url = 'http://127.0.0.1:9000/lake/k.parquet', format = 'Parquet')");
    expect(() => clickHouseParquetFile('s3://lake/k.parquet', { s3: { ...s3, clickhouse: { namedCollection: 'x`; DROP' } } }, INLINE_SQL_VALUES)).toThrow(/invalid identifier/);
  });

  it('refuses a location ClickHouse cannot reach, naming the key to set', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(OffloadError);
        expect((error as OffloadError).kind).toBe('config');
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refused(() => clickHouseParquetFile('s3://lake/k', { s3: { region: 'r' } }, new QueryParams()))).toMatch(/set storage\.s3\.clickhouse\.namedCollection/);
    expect(refused(() => clickHouseParquetFile('s3://lake/k', {}, new QueryParams()))).toMatch(/\(storage\.s3\)/);
    expect(refused(() => clickHouseParquetFile('gs://lake/k', { s3 }, new QueryParams()))).toMatch(/^ClickHouse cannot reach gs:\/\/lake\/k/);
  });
});

describe('clickHouseIcebergTable: the SQL', () => {
  it('reads an S3 table root through icebergS3 with the named collection, pinned to a metadata file when asked', () => {
    const params = new QueryParams();
    const sql = clickHouseIcebergTable('s3://lake/w/ns/t', { s3 }, params, { metadataLocation: 's3a://lake/w/ns/t/metadata/00003-x.metadata.json' });
    expect(sql).toBe('icebergS3({p0:Identifier}, url = {p1:String}, SETTINGS iceberg_metadata_file_path = {p2:String})');
    expect(params.values).toEqual({ p0: 'lake_creds', p1: 'http://127.0.0.1:9000/lake/w/ns/t/', p2: 'metadata/00003-x.metadata.json' });
  });

  it('reads a local table through icebergLocal, relative to a path base when given', () => {
    expect(clickHouseIcebergTable('/srv/w/ns/t/', {}, INLINE_SQL_VALUES, { pathBase: '/srv', metadataLocation: 'file:///srv/w/ns/t/metadata/v2.metadata.json' })).toBe(
      "icebergLocal('w/ns/t', SETTINGS iceberg_metadata_file_path = 'metadata/v2.metadata.json')",
    );
    expect(() => clickHouseIcebergTable('/srv/w/t', {}, INLINE_SQL_VALUES, { metadataLocation: '/elsewhere/v1.metadata.json' })).toThrow(/not under the table location/);
  });
});

describe('a real round trip: ClickHouse over HTTP writes and reads Parquet on an S3 server through a named collection', () => {
  let clickhouse: ClickHouseTestServer;
  let store: S3Server;
  let dir: TempDir;
  let client: ClickHouseClient;

  beforeAll(async () => {
    [clickhouse, store, dir] = await Promise.all([startClickHouseServer(), startS3Server(), createTempDir('clickhouse-files-')]);
    await store.createBucket('lake');
    client = clickhouse.client();
    // What an operator runs once on the server; Coldtier only ever names the collection.
    await client.command({ query: store.namedCollectionSql('lake_creds') });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([clickhouse?.stop(), store?.stop(), dir?.remove()]);
  });

  it('the object ClickHouse writes is the one S3FileIO reads at the same location, and ClickHouse reads it back', { timeout: 120_000 }, async () => {
    const storage = { s3: { endpoint: store.endpoint, region: store.region, pathStyle: true, clickhouse: { namedCollection: 'lake_creds' } } };
    const location = "s3://lake/w/ns/t/data/symbol=BTC%2FUSD/it's 00000.parquet";
    const write = new QueryParams();
    await client.command({
      query: `INSERT INTO FUNCTION ${clickHouseParquetFile(location, storage, write, { structure: 'n UInt64, s String' })} SELECT number, toString(number) FROM numbers(1000)`,
      query_params: write.values,
    });

    process.env['AWS_ACCESS_KEY_ID'] = store.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = store.secretAccessKey;
    const io = new S3FileIO(storage.s3);
    const bytes = Buffer.from(await io.read(location));
    expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);

    const read = new QueryParams();
    const result = await client.query({ query: `SELECT count() AS rows, sum(n) AS total FROM ${clickHouseParquetFile(location, storage, read)}`, query_params: read.values, format: 'JSONEachRow' });
    expect((await result.json<{ rows: unknown; total: unknown }>()).map((r) => [Number(r.rows), Number(r.total)])).toEqual([[1000, 499500]]);
    // Inline values name the same object (the form a view's text needs).
    const inline = await client.query({ query: `SELECT count() AS rows FROM ${clickHouseParquetFile(location, storage, INLINE_SQL_VALUES)}`, format: 'JSONEachRow' });
    expect((await inline.json<{ rows: unknown }>()).map((r) => Number(r.rows))).toEqual([1000]);
  });

  it('icebergS3 reads an Iceberg table on the store, at its newest metadata or pinned to an earlier one', { timeout: 120_000 }, async () => {
    const storage = { s3: { endpoint: store.endpoint, region: store.region, pathStyle: true, clickhouse: { namedCollection: 'lake_creds' } } };
    // ClickHouse's own Iceberg writer makes a table to read: v1 is the empty table, v2 has the rows.
    const settings = { allow_experimental_insert_into_iceberg: 1 };
    await client.command({ query: `CREATE TABLE ice (n UInt64) ENGINE = IcebergS3(lake_creds, url = '${store.endpoint}/lake/w/ns/ice/')`, clickhouse_settings: settings });
    await client.command({ query: 'INSERT INTO ice SELECT number FROM numbers(10)', clickhouse_settings: settings });
    const sum = async (options: { metadataLocation?: string }) => {
      const params = new QueryParams();
      const result = await client.query({ query: `SELECT sum(n) AS total FROM ${clickHouseIcebergTable('s3://lake/w/ns/ice', storage, params, options)}`, query_params: params.values, format: 'JSONEachRow' });
      return (await result.json<{ total: unknown }>()).map((r) => Number(r.total));
    };
    expect(await sum({})).toEqual([45]);
    expect(await sum({ metadataLocation: 's3://lake/w/ns/ice/metadata/v1.metadata.json' })).toEqual([0]);
  });

  it('writes and reads a local file through file() at an absolute path', { timeout: 60_000 }, async () => {
    const location = join(dir.path, "it's local.parquet");
    const write = new QueryParams();
    await client.command({ query: `INSERT INTO FUNCTION ${clickHouseParquetFile(location, {}, write)} SELECT number AS n FROM numbers(10)`, query_params: write.values });
    const read = new QueryParams();
    const result = await client.query({ query: `SELECT sum(n) AS total FROM ${clickHouseParquetFile(`file://${location}`, {}, read)}`, query_params: read.values, format: 'JSONEachRow' });
    expect((await result.json<{ total: unknown }>()).map((r) => Number(r.total))).toEqual([45]);
  });
});
