import { randomBytes } from 'node:crypto';
import { writeFile, access } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server } from '@coldtier/test-support';
import type { S3Server } from '@coldtier/test-support';
import { FileAlreadyExistsError } from '../src/iceberg/io/file-io.js';
import { S3Client } from '@aws-sdk/client-s3';
import { S3FileIO, StorageError, parseS3Location, s3ClientConfig } from '../src/iceberg/io/s3.js';
import { TableAlreadyExistsError } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, tradesSchema } from './iceberg-helpers.js';

let s3: S3Server;
let io: S3FileIO;

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket('lake');
  process.env['AWS_ACCESS_KEY_ID'] = s3.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.secretAccessKey;
  io = new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 2 });
});

afterAll(async () => {
  await s3?.stop();
});

describe('S3FileIO on an S3-compatible server (moto)', () => {
  it('writes, reads, lists direct children and deletes', async () => {
    await io.write('s3://lake/t/metadata/a.json', Buffer.from('{"a":1}'));
    await io.write('s3://lake/t/metadata/b.json', Buffer.from('{"b":2}'));
    await io.write('s3://lake/t/metadata/deeper/c.json', Buffer.from('{}'));
    expect(Buffer.from(await io.read('s3://lake/t/metadata/a.json')).toString()).toBe('{"a":1}');
    expect((await io.list('s3://lake/t/metadata')).sort()).toEqual(['s3://lake/t/metadata/a.json', 's3://lake/t/metadata/b.json']);
    const everything = await io.listRecursive('s3://lake/t/metadata');
    expect(everything.map((f) => f.location).sort()).toEqual(['s3://lake/t/metadata/a.json', 's3://lake/t/metadata/b.json', 's3://lake/t/metadata/deeper/c.json']);
    expect(everything.find((f) => f.location.endsWith('a.json'))?.sizeBytes).toBe(7);
    // Orphan cleanup's grace period reads this: the store's time of the write, not the epoch.
    for (const f of everything) expect(Math.abs(f.modifiedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    expect(await io.exists('s3://lake/t/metadata/b.json')).toBe(true);
    await io.delete('s3://lake/t/metadata/b.json');
    await io.delete('s3://lake/t/metadata/never-was.json');
    expect(await io.exists('s3://lake/t/metadata/b.json')).toBe(false);
  });

  it('create is conditional: of two creates of one key the second fails with FileAlreadyExistsError', async () => {
    await io.create('s3://lake/t/metadata/v1.metadata.json', Buffer.from('first'));
    await expect(io.create('s3://lake/t/metadata/v1.metadata.json', Buffer.from('second'))).rejects.toBeInstanceOf(FileAlreadyExistsError);
    expect(Buffer.from(await io.read('s3://lake/t/metadata/v1.metadata.json')).toString()).toBe('first');
  });

  it('refuses create on a store configured without conditional writes', async () => {
    const plain = new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true, conditionalWrites: false });
    await expect(plain.create('s3://lake/t/x', Buffer.from('x'))).rejects.toThrow(/without conditional writes/);
    expect(await io.exists('s3://lake/t/x')).toBe(false);
  });

  it('publishes a staged file larger than a part as a multipart upload, byte for byte, and removes the staging file', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 123);
    const staged = await io.stage('s3://lake/t/data/big.parquet');
    await writeFile(staged.path, bytes);
    await staged.publish();
    const back = Buffer.from(await io.read('s3://lake/t/data/big.parquet'));
    expect(back.length).toBe(bytes.length);
    expect(back.equals(bytes)).toBe(true);
    await expect(access(staged.path)).rejects.toThrow();
  });

  it('a failed upload leaves no object and says which location failed', async () => {
    const staged = await io.stage('s3://no-such-bucket/t/data/x.parquet');
    await writeFile(staged.path, Buffer.from('x'));
    const error = await staged.publish().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('s3://no-such-bucket/t/data/x.parquet');
    expect((error as Error).message).not.toContain(s3.secretAccessKey);
    await staged.discard();
  });

  it('parses s3, s3a and s3n locations as the same store and rejects others', () => {
    expect(parseS3Location('s3a://b/k/x')).toEqual({ bucket: 'b', key: 'k/x' });
    expect(parseS3Location('s3://b')).toEqual({ bucket: 'b', key: '' });
    expect(() => parseS3Location('/local/path')).toThrow(StorageError);
  });
});

describe('the filesystem (Hadoop) catalog on S3 with conditional writes', () => {
  it('creates and appends; of two writers racing from one version exactly one lands each round', async () => {
    const catalog = new FilesystemCatalog({ warehouse: 's3://lake/hadoop', io });
    const id = { namespace: ['cold'], name: 'trades' };
    await catalog.createNamespace(id.namespace);
    await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
    await expect(catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } })).rejects.toBeInstanceOf(TableAlreadyExistsError);
    const results = await Promise.all(
      [0, 1, 2].map((i) => fastAppend(catalog, id, [fakeDataFile(`s3://lake/hadoop/cold/trades/data/f${i}.parquet`, i + 1)], { sleep: noSleep, retry: { retries: 10 } })),
    );
    const { metadata, metadataLocation } = await catalog.loadTable(id);
    expect(metadataLocation).toBe('s3://lake/hadoop/cold/trades/metadata/v4.metadata.json');
    expect(mainAncestry(metadata).map((s) => s.snapshotId).sort()).toEqual(results.map((r) => r.snapshot.snapshotId).sort());
    expect(currentSnapshot(metadata)?.summary['total-records']).toBe('6');
  });
});

describe('S3FileIO addressing', () => {
  async function requestedUrl(pathStyle: boolean): Promise<string> {
    const client = new S3Client(s3ClientConfig({ endpoint: 'http://store.example:9000', region: 'us-east-1', pathStyle, maxAttempts: 1 }));
    let url = '';
    client.middlewareStack.add(
      () => async (args) => {
        const request = args.request as { hostname: string; port?: number; path: string };
        url = `${request.hostname}:${request.port}${request.path}`;
        throw new Error('captured');
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    await new S3FileIO({ region: 'us-east-1' }, client).exists('s3://lake/t/a.json').catch(() => undefined);
    return url;
  }

  it('addresses the bucket in the path with pathStyle, as a virtual host without', async () => {
    expect(await requestedUrl(true)).toBe('store.example:9000/lake/t/a.json');
    expect(await requestedUrl(false)).toBe('lake.store.example:9000/t/a.json');
  });
});
