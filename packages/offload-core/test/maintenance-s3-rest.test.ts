import { fileURLToPath } from 'node:url';
import { createTempDir, runPyIceberg, startEmbeddedClickHouse, startRestCatalog, startS3Server } from '@coldtier/test-support';
import type { EmbeddedClickHouse, RestCatalogServer, S3Server, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { RestCatalog } from '../src/iceberg/catalog/rest/index.js';
import { ClickHouseFileRewriter } from '../src/iceberg/maintenance/compaction.js';
import { maintainTable, type MaintenanceReport } from '../src/iceberg/maintenance/maintain.js';
import { cleanOrphanFiles, type OrphanReport } from '../src/iceberg/maintenance/orphans.js';
import { S3FileIO, type S3StorageOptions } from '../src/iceberg/io/s3.js';
import type { TableMetadata } from '../src/iceberg/spec/table-metadata.js';
import type { ExpireSnapshotsReport } from '../src/iceberg/transaction/expire-snapshots.js';
import { listLiveDataFiles, readManifestEntries, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { bronzeDdl, bronzeInsert, cycles, tableConfig } from './embedded-helpers.js';

/**
 * Issue 12, deliver item 6: maintenance of a table on S3 (moto) behind the
 * Iceberg REST catalog server. ClickHouse reads the small files from the
 * bucket and writes the compacted one there (a named collection holds the
 * keys); expiry, manifest rewriting and orphan cleanup (data/ and metadata/,
 * grace period, dry run) act on the bucket; PyIceberg, through the same
 * catalog, reads the same rows before and after.
 */

const SCAN = fileURLToPath(new URL('interop/scan_snapshot.py', import.meta.url));
const CYCLES = 6;
const id = { namespace: ['cold'], name: 'trades' };

let s3: S3Server;
let rest: RestCatalogServer;
let ch: EmbeddedClickHouse;
let temp: TempDir;
let storage: { readonly s3: S3StorageOptions };
let io: S3FileIO;
let catalog: RestCatalog;

beforeAll(async () => {
  [s3, ch, temp] = await Promise.all([startS3Server(), startEmbeddedClickHouse(), createTempDir()]);
  rest = await startRestCatalog({ s3 });
  // The SDK's default provider chain, as in production (this test file runs in its own process).
  process.env['AWS_ACCESS_KEY_ID'] = s3.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.secretAccessKey;
  storage = { s3: { endpoint: s3.endpoint, region: s3.region, pathStyle: true, stagingDir: temp.path, clickhouse: { namedCollection: 'lake_creds' } } };
  io = new S3FileIO(storage.s3);
  // Generous: a request that times out on a loaded machine is sent again, and the REST server's first,
  // abandoned create can leave a metadata file nothing references (a real orphan, but not this test's).
  catalog = new RestCatalog({ uri: rest.uri, io, timeoutMs: 60_000 });
  await catalog.createNamespace(['cold']);
  // What an operator runs once on the ClickHouse server; Coldtier only names the collection.
  await ch.client.command({ query: s3.namedCollectionSql('lake_creds') });
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  await ch.client.command({ query: bronzeDdl('k2.trades') });
  await ch.client.command({ query: bronzeInsert('k2.trades', 0, 600) });
}, 180_000);

afterAll(async () => {
  await rest?.stop();
  await s3?.stop();
  await ch?.close();
  await temp?.remove();
});

interface PyScan {
  readonly rows: string;
  readonly sequence_sum: string;
  readonly trade_ids: string;
  readonly timestamp_sum: string;
}

/** PyIceberg reading the table as the REST catalog serves it now. */
async function pyiceberg(): Promise<PyScan> {
  const request = {
    rest: { uri: rest.uri, table: 'cold.trades' },
    properties: {
      's3.endpoint': s3.endpoint,
      's3.region': s3.region,
      's3.access-key-id': s3.accessKeyId,
      's3.secret-access-key': s3.secretAccessKey,
      's3.force-virtual-addressing': 'false',
    },
  };
  const { rows, sequence_sum, trade_ids, timestamp_sum } = JSON.parse(await runPyIceberg(SCAN, [JSON.stringify(request)])) as PyScan;
  return { rows, sequence_sum, trade_ids, timestamp_sum };
}

/** Each action and its status; a failure's message, so a failing run says why. */
const statuses = (report: MaintenanceReport): string[][] =>
  report.actions.map((a) => [a.action, a.status, ...(a.status === 'failed' ? [String(a.detail)] : [])]);

/** Every object in the bucket. */
async function bucket(): Promise<string[]> {
  return (await io.listRecursive(rest.warehouse)).map((f) => f.location).sort();
}

/** Manifest lists, manifests and data files the table's snapshots reference. */
async function referenced(metadata: TableMetadata): Promise<Set<string>> {
  const out = new Set<string>();
  for (const snapshot of metadata.snapshots) {
    out.add(snapshot.manifestList);
    for (const manifest of await readSnapshotManifests(io, snapshot)) {
      out.add(manifest.manifestPath);
      for (const entry of await readManifestEntries(io, metadata, manifest)) out.add(entry.dataFile.filePath);
    }
  }
  return out;
}

describe('maintenance on S3 behind a REST catalog', () => {
  it('compacts, expires, rewrites manifests and removes orphans in the bucket; PyIceberg reads the same rows', { timeout: 300_000 }, async () => {
    const clock = new ManualClock(new Date('2024-01-01T02:00:00Z'));
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side', storage });
    const rewriter = new ClickHouseFileRewriter(ch.client, { io, storage });
    const orchestrator = cycles([tableConfig({ name: 'trades' })], new InMemoryWatermarkStore({ clock }), runner, clock);
    let offloaded = 0;
    for (let i = 0; i < CYCLES; i++) {
      const outcome = (await orchestrator.runCycle()).tables[0];
      if (outcome?.status !== 'success') throw new Error(`cycle ${i} failed: ${JSON.stringify(outcome)}`);
      offloaded += outcome.rows;
      clock.advance(2 * 3600 * 1000);
    }
    const before = await catalog.loadTable(id);
    expect(before.metadataLocation).toMatch(/^s3:\/\//);
    const smallFiles = (await listLiveDataFiles(io, before.metadata)).map((f) => f.dataFile.filePath).sort();
    expect(smallFiles).toHaveLength(CYCLES);
    const pyBefore = await pyiceberg();
    expect(pyBefore).toMatchObject({ rows: String(offloaded), trade_ids: String(offloaded) });

    // What killed runs leave behind: a data file, a manifest, a manifest list and a metadata file nothing references.
    const location = before.metadata.location;
    const planted = [
      `${location}/data/exchange_timestamp_day=2024-01-01/killed-run-00000.parquet`,
      `${location}/metadata/killed-run-m0.avro`,
      `${location}/metadata/snap-1234-1-killed-run.avro`,
      `${location}/metadata/00099-killed-run.metadata.json`,
    ];
    for (const path of planted) await io.write(path, new TextEncoder().encode('left by a killed run'));
    const expire = { olderThanMs: Date.now() + 60_000, retainLast: 1 };
    // The offloads just committed (the REST server refuses snapshot times ahead of its clock, so no clock skips ahead): no quiet period.
    const compaction = { minQuietMs: 0 };

    // Dry run: reports what it would do, and the bucket and the table stay as they were.
    const objects = await bucket();
    const dry = await maintainTable(catalog, id, { rewriter, compaction, dryRun: true, expire, orphanGraceMs: 0 });
    expect(statuses(dry)).toEqual([
      ['compact', 'success'],
      ['rewrite_manifests', 'skipped'],
      ['expire_snapshots', 'success'],
      ['remove_orphans', 'success'],
    ]);
    expect(dry.actions[0]?.detail).toMatchObject({ filesRewritten: CYCLES, filesAdded: 1, snapshotId: null, dryRun: true });
    expect((dry.actions[2]?.detail as ExpireSnapshotsReport).expiredSnapshotIds).toHaveLength(CYCLES - 1);
    const dryOrphans = dry.actions[3]?.detail as OrphanReport;
    expect(dryOrphans.dataFiles.map((f) => f.location)).toEqual([planted[0]]);
    expect(dryOrphans.metadataFiles.map((f) => f.location).sort()).toEqual(planted.slice(1).sort());
    expect(await bucket()).toEqual(objects);
    expect((await catalog.loadTable(id)).metadataLocation).toBe(before.metadataLocation);

    // The real run, with the default 3-day grace period: the fresh orphans are kept.
    const report = await maintainTable(catalog, id, { rewriter, compaction, expire });
    expect(statuses(report)).toEqual([
      ['compact', 'success'],
      ['rewrite_manifests', 'success'],
      ['expire_snapshots', 'success'],
      ['remove_orphans', 'success'],
    ]);
    expect(report.before).toMatchObject({ snapshots: CYCLES, manifests: CYCLES, dataFiles: CYCLES, maxFilesPerPartition: CYCLES });
    expect(report.after).toMatchObject({ snapshots: 1, manifests: 1, dataFiles: 1 });
    const after = await catalog.loadTable(id);
    const live = await bucket();
    for (const path of planted) expect(live).toContain(path);
    // ClickHouse wrote the compacted file into the bucket (no staged object left beside it).
    const [compacted] = (await listLiveDataFiles(io, after.metadata)).map((f) => f.dataFile.filePath);
    expect(compacted).toMatch(/^s3:\/\/warehouse\/.*\/compact-[0-9a-f-]+\.parquet$/);
    expect(live).toContain(compacted);
    expect(live.filter((path) => path.endsWith('.partial'))).toEqual([]);

    // Gone from the bucket: the small files, the expired snapshots' manifest lists and the manifests only they listed.
    const expired = report.actions[2]?.detail as ExpireSnapshotsReport;
    expect(expired.deletedDataFiles).toEqual(smallFiles);
    expect(expired.deletedManifestLists).toHaveLength(CYCLES + 1);
    expect(expired.deletedManifests.length).toBeGreaterThanOrEqual(CYCLES);
    for (const path of [...expired.deletedDataFiles, ...expired.deletedManifestLists, ...expired.deletedManifests]) expect(live).not.toContain(path);
    // Still there: every file the retained snapshot references.
    const kept = await referenced(after.metadata);
    for (const path of kept) expect(live).toContain(path);

    // An hour later with a 30-minute grace period, the orphans count, and go.
    const later = new ManualClock(new Date(Date.now() + 3600 * 1000));
    const orphans = await cleanOrphanFiles(catalog, id, { clock: later, olderThanMs: 30 * 60 * 1000 });
    expect([...orphans.dataFiles, ...orphans.metadataFiles].map((f) => f.location).sort()).toEqual([...planted].sort());
    const final = await bucket();
    for (const path of planted) expect(final).not.toContain(path);
    for (const path of kept) expect(final).toContain(path);
    expect(final).toContain((await catalog.loadTable(id)).metadataLocation);

    expect(await pyiceberg()).toEqual(pyBefore);
  });
});
