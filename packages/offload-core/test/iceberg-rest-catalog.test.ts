import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, startRestCatalog, startS3Server } from '@coldtier/test-support';
import type { FaultProxy, ProxiedRequest, RestCatalogServer, S3Server } from '@coldtier/test-support';
import { CommitStateUnknownError } from '../src/iceberg/catalog/catalog.js';
import { RestCatalog, RestCatalogError, bearerToken, clientCredentials } from '../src/iceberg/catalog/rest/index.js';
import { S3FileIO } from '../src/iceberg/io/s3.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { expireSnapshots } from '../src/iceberg/transaction/expire-snapshots.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, tradesSchema } from './iceberg-helpers.js';

// One S3 server and one REST catalog server (a JVM) for the whole file: the JVM start is the cost.
let s3: S3Server;
let rest: RestCatalogServer;
let proxy: FaultProxy;
let io: S3FileIO;
let tableNumber = 0;

beforeAll(async () => {
  s3 = await startS3Server();
  rest = await startRestCatalog({ s3 });
  proxy = await startFaultProxy(rest.uri);
  process.env['AWS_ACCESS_KEY_ID'] = s3.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.secretAccessKey;
  io = new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await rest?.stop();
  await s3?.stop();
});

beforeEach(() => proxy.setRule(undefined));

function catalog(options: Partial<ConstructorParameters<typeof RestCatalog>[0]> = {}): RestCatalog {
  return new RestCatalog({ uri: proxy.uri, io, timeoutMs: 10_000, sleep: noSleep, ...options });
}

/** A fresh table per test, so each test's snapshot counts are its own. */
async function newTable(c: RestCatalog) {
  const id = { namespace: ['cold'], name: `t${++tableNumber}` };
  await c.createNamespace(['cold']);
  await c.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
  return id;
}

const isCommit = (r: ProxiedRequest) => r.method === 'POST' && /\/tables\/t\d+$/.test(r.path);
const commitsSent = () => proxy.requests.filter(isCommit).length;

/** The fault applies to the next commit only. */
function onNextCommit(fault: Parameters<FaultProxy['setRule']>[0] extends ((r: ProxiedRequest) => infer F) | undefined ? F : never): void {
  let used = false;
  proxy.setRule((r) => {
    if (used || !isCommit(r)) return undefined;
    used = true;
    return fault;
  });
}

describe('REST catalog client against the Iceberg REST catalog server', () => {
  it('creates, loads and appends, keeping 63-bit snapshot ids exact; metadata lands on the S3 server', async () => {
    const c = catalog();
    const id = await newTable(c);
    expect(await c.tableExists(id)).toBe(true);
    expect(await c.tableExists({ namespace: ['cold'], name: 'absent' })).toBe(false);
    const first = await fastAppend(c, id, [fakeDataFile('s3://warehouse/data/a.parquet', 10)], { snapshotProperties: { 'coldtier.run-id': 'r1' } });
    const second = await fastAppend(c, id, [fakeDataFile('s3://warehouse/data/b.parquet', 5)]);
    const loaded = await c.loadTable(id);
    expect(loaded.metadata.snapshots.map((s) => s.snapshotId)).toEqual([first.snapshot.snapshotId, second.snapshot.snapshotId]);
    expect(currentSnapshot(loaded.metadata)?.summary['total-records']).toBe('15');
    expect(loaded.metadata.snapshots[0]?.summary['coldtier.run-id']).toBe('r1');
    expect(loaded.metadataLocation).toMatch(/^s3:\/\/warehouse\/warehouse\/cold\//);
    expect(await io.exists(loaded.metadataLocation)).toBe(true);
    expect((await listLiveDataFiles(io, loaded.metadata)).map((f) => f.dataFile.filePath).sort()).toEqual([
      's3://warehouse/data/a.parquet',
      's3://warehouse/data/b.parquet',
    ]);
    expect(await c.listNamespaces()).toContainEqual(['cold']);
  });

  it('(a) a 500 after the server applied the commit: the run finds its snapshot, one snapshot, files intact', async () => {
    const c = catalog();
    const id = await newTable(c);
    onNextCommit({ after: { status: 500, body: '{"error":{"message":"boom","type":"ServerError","code":500}}' } });
    const result = await fastAppend(c, id, [fakeDataFile('s3://warehouse/data/a.parquet', 4)], { sleep: noSleep });
    const { metadata } = await c.loadTable(id);
    expect(metadata.snapshots.map((s) => s.snapshotId)).toEqual([result.snapshot.snapshotId]);
    expect(await io.exists(result.snapshot.manifestList)).toBe(true);
  });

  it('(b) the connection dropped after the server applied the commit: same, and the POST was not re-sent', async () => {
    const c = catalog();
    const id = await newTable(c);
    const before = commitsSent();
    onNextCommit({ after: 'drop' });
    const result = await fastAppend(c, id, [fakeDataFile('s3://warehouse/data/a.parquet', 4)], { sleep: noSleep });
    expect(commitsSent() - before).toBe(1);
    const { metadata } = await c.loadTable(id);
    expect(metadata.snapshots.map((s) => s.snapshotId)).toEqual([result.snapshot.snapshotId]);
  });

  it('(c) a 409 once: reload, re-apply, one snapshot', async () => {
    const c = catalog();
    const id = await newTable(c);
    onNextCommit({ before: { status: 409, body: '{"error":{"message":"Requirement failed","type":"CommitFailedException","code":409}}' } });
    const result = await fastAppend(c, id, [fakeDataFile('s3://warehouse/data/a.parquet', 4)], { sleep: noSleep });
    expect(result.attempts).toBe(2);
    expect((await c.loadTable(id)).metadata.snapshots).toHaveLength(1);
  });

  it('a 502 before the server saw the commit is an unknown outcome: rethrown, never re-sent, nothing committed', async () => {
    const c = catalog();
    const id = await newTable(c);
    const before = commitsSent();
    onNextCommit({ before: { status: 502, body: '' } });
    await expect(fastAppend(c, id, [fakeDataFile('s3://warehouse/data/a.parquet', 4)], { sleep: noSleep })).rejects.toBeInstanceOf(CommitStateUnknownError);
    expect(commitsSent() - before).toBe(1);
    expect((await c.loadTable(id)).metadata.snapshots).toHaveLength(0);
  });

  it('expires several snapshots in one commit, sent as one remove-snapshots update per id (the server parses no list)', async () => {
    const c = catalog();
    const id = await newTable(c);
    for (const name of ['a', 'b', 'c']) await fastAppend(c, id, [fakeDataFile(`s3://warehouse/data/${name}.parquet`, 1)]);
    const report = await expireSnapshots(c, id, { olderThanMs: Date.now() + 60_000, retainLast: 1 });
    expect(report.expiredSnapshotIds).toHaveLength(2);
    const sent = JSON.parse(proxy.requests.filter(isCommit).at(-1)!.body) as { updates: { action: string; 'snapshot-ids': unknown[] }[] };
    expect(sent.updates.map((u) => [u.action, u['snapshot-ids'].length])).toEqual([
      ['remove-snapshots', 1],
      ['remove-snapshots', 1],
    ]);
    expect((await c.loadTable(id)).metadata.snapshots).toHaveLength(1);
  });

  it('retries a read that met a 503 or a dropped connection; a 403 fails at once as a configuration error', async () => {
    const c = catalog();
    const id = await newTable(c);
    const isLoad = (r: ProxiedRequest) => r.method === 'GET' && r.path.endsWith(`/tables/${id.name}`);
    let faults = 0;
    proxy.setRule((r) => (isLoad(r) && faults < 2 ? (faults++ === 0 ? { before: { status: 503, body: '' } } : { before: 'drop' }) : undefined));
    const loads = () => proxy.requests.filter(isLoad).length;
    const start = loads();
    expect((await c.loadTable(id)).identifier).toEqual(id);
    expect(loads() - start).toBe(3);

    proxy.setRule((r) => (isLoad(r) ? { before: { status: 403, body: '{"error":{"message":"not yours","type":"ForbiddenException","code":403}}' } } : undefined));
    const denied = loads();
    const error = await c.loadTable(id).then(() => undefined, (e: unknown) => e as RestCatalogError);
    expect(error).toBeInstanceOf(RestCatalogError);
    expect(error).toMatchObject({ kind: 'config', status: 403, retryable: false });
    expect(error?.message).toContain('ForbiddenException: not yours');
    expect(loads() - denied).toBe(1);
  });

  it('sends an Idempotency-Key only when /v1/config advertises one, the same key on a re-sent commit', async () => {
    const plain = catalog();
    const id = await newTable(plain);
    await fastAppend(plain, id, [fakeDataFile('s3://warehouse/data/a.parquet', 1)]);
    expect(proxy.requests.filter(isCommit).every((r) => r.headers['idempotency-key'] === undefined)).toBe(true);

    let throttled = false;
    proxy.setRule((r) => {
      if (r.path.startsWith('/v1/config')) return { after: (body) => JSON.stringify({ ...JSON.parse(body), 'idempotency-key-lifetime': 'PT30M' }) };
      if (isCommit(r) && !throttled) {
        throttled = true;
        return { before: { status: 429, body: '', headers: { 'retry-after': '0' } } };
      }
      return undefined;
    });
    const keyed = catalog();
    const start = proxy.requests.length;
    await fastAppend(keyed, id, [fakeDataFile('s3://warehouse/data/b.parquet', 1)]);
    const keys = proxy.requests.slice(start).filter(isCommit).map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect((await keyed.loadTable(id)).metadata.snapshots).toHaveLength(2);
  });

  it('authenticates with OAuth2 client credentials or a static token; no secret in an error', async () => {
    const start = proxy.requests.length;
    const oauth = catalog({
      auth: clientCredentials({ tokenUri: `${proxy.uri}/v1/oauth/tokens`, clientId: 'coldtier', clientSecret: 'very-secret-value', timeoutMs: 5_000 }),
    });
    await oauth.listNamespaces();
    const seen = proxy.requests.slice(start);
    expect(seen[0]?.path).toBe('/v1/oauth/tokens');
    expect(seen[0]?.body).toContain('grant_type=client_credentials');
    expect(seen.slice(1).every((r) => typeof r.headers['authorization'] === 'string' && r.headers['authorization'].startsWith('Bearer '))).toBe(true);

    const bearer = catalog({ auth: bearerToken('static-token-123') });
    await bearer.listNamespaces();
    expect(proxy.requests.at(-1)?.headers['authorization']).toBe('Bearer static-token-123');

    proxy.setRule((r) => (r.path === '/v1/oauth/tokens' ? { before: { status: 401, body: '{"error":"invalid_client"}' } } : undefined));
    const refused = catalog({
      auth: clientCredentials({ tokenUri: `${proxy.uri}/v1/oauth/tokens`, clientId: 'coldtier', clientSecret: 'very-secret-value', timeoutMs: 5_000 }),
    });
    const error = await refused.listNamespaces().then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/OAuth2 token request .* answered HTTP 401/);
    expect(JSON.stringify({ message: error?.message, stack: error?.stack })).not.toContain('very-secret-value');
  });
});
