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

  /** The SDK commands a FileIO sends, with their `Range`/`CopySourceRange`, through a client that records them. */
  function recordingIO(): { io: S3FileIO; sent: string[] } {
    const client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: s3.region, pathStyle: true }));
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Range?: string; CopySourceRange?: string };
        sent.push([context.commandName, input.Range ?? input.CopySourceRange].filter(Boolean).join(' '));
        return next(args);
      },
      { step: 'initialize' },
    );
    return { io: new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true }, client), sent };
  }

  async function multipartUploadsIn(bucket: string): Promise<number> {
    const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: s3.region, pathStyle: true }));
    return (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
  }

  it('publishes a staged object with a new tail by copying its body inside the store: the body never comes through', async () => {
    const { io: recorded, sent } = recordingIO();
    const body = randomBytes(6 * 1024 * 1024 + 7);
    const staged = await recorded.stageObject('s3a://lake/t/data/server.parquet');
    expect(staged.location).toMatch(/^s3a:\/\/lake\/t\/data\/\.[0-9a-f-]{36}\.partial$/);
    // What ClickHouse would write: a body and a tail to replace.
    await recorded.write(staged.location, Buffer.concat([body, Buffer.from('old tail')]));
    expect(await staged.readTail(8)).toEqual({ bytes: new Uint8Array(Buffer.from('old tail')), size: body.length + 8 });
    sent.length = 0;
    await staged.publishWithTail(body.length, Buffer.from('the new, longer tail'));
    expect(Buffer.from(await io.read('s3://lake/t/data/server.parquet')).equals(Buffer.concat([body, Buffer.from('the new, longer tail')]))).toBe(true);
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      `UploadPartCopyCommand bytes=0-${body.length - 1}`,
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
      'DeleteObjectCommand',
    ]);
    expect(await io.exists(staged.location)).toBe(false);
  });

  it('copies a body under the 5 MiB part minimum through this process into one PUT', async () => {
    const { io: recorded, sent } = recordingIO();
    const staged = await recorded.stageObject('s3://lake/t/data/small.parquet');
    await recorded.write(staged.location, Buffer.from('PAR1 small body|old'));
    sent.length = 0;
    await staged.publishWithTail(15, Buffer.from('|new tail'));
    expect(Buffer.from(await io.read('s3://lake/t/data/small.parquet')).toString()).toBe('PAR1 small body|new tail');
    expect(sent).toEqual(['GetObjectCommand bytes=0-14', 'PutObjectCommand', 'DeleteObjectCommand']);
  });

  it('aborts the multipart upload when a copy fails, leaving no object and no upload', async () => {
    await s3.createBucket('abort-test');
    const staged = await io.stageObject('s3://abort-test/t/x.parquet');
    await io.write(staged.location, randomBytes(6 * 1024 * 1024 + 4));
    // The staged object vanishes (someone else's cleanup): the copy fails inside the upload.
    await io.delete(staged.location);
    const error = await staged.publishWithTail(6 * 1024 * 1024, Buffer.from('tail')).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('s3://abort-test/t/x.parquet');
    expect(await io.exists('s3://abort-test/t/x.parquet')).toBe(false);
    expect(await multipartUploadsIn('abort-test')).toBe(0);
    await staged.discard();
    expect(await io.exists(staged.location)).toBe(false);
  });

  it('uploads a staged file in parts of the configured size, at most the configured number at once, and aborts the upload when a part fails', async () => {
    await s3.createBucket('parts-test');
    const client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, region: s3.region, pathStyle: true, maxAttempts: 1 }));
    const parts: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const failingParts = new Set<number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UploadPartCommand') return next(args);
        const input = args.input as { PartNumber: number; ContentLength: number };
        parts.push(input.ContentLength);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          if (failingParts.has(input.PartNumber)) throw new Error('connection reset while sending the part');
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize' },
    );
    const sized = new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 2 }, client);
    const bytes = randomBytes(17 * 1024 * 1024 + 5);
    const staged = await sized.stage('s3://parts-test/t/data/parts.parquet');
    await writeFile(staged.path, bytes);
    await staged.publish();
    expect(Buffer.from(await io.read('s3://parts-test/t/data/parts.parquet')).equals(bytes)).toBe(true);
    const MiB = 1024 * 1024;
    expect(parts.toSorted((a, b) => b - a)).toEqual([5 * MiB, 5 * MiB, 5 * MiB, 2 * MiB + 5]);
    expect(mostInFlight).toBe(2);

    failingParts.add(3);
    const failing = await sized.stage('s3://parts-test/t/data/failing.parquet');
    await writeFile(failing.path, bytes);
    const error = await failing.publish().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('s3://parts-test/t/data/failing.parquet');
    expect(await io.exists('s3://parts-test/t/data/failing.parquet')).toBe(false);
    expect(await multipartUploadsIn('parts-test')).toBe(0);
    await failing.discard();
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
