import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { ClickHouseFileRewriter, compactTable, type DataFileRewriter } from '../src/iceberg/maintenance/compaction.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import { currentSnapshot, snapshotById } from '../src/iceberg/spec/table-metadata.js';
import { expireSnapshots } from '../src/iceberg/transaction/expire-snapshots.js';
import { RewriteValidationError } from '../src/iceberg/transaction/rewrite-files.js';
import { listLiveDataFiles, mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import type { Cursor } from '../src/watermark/cursor.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { committedWatermarkOf } from '../src/runner/embedded/summary.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, checksumQuery, readIceberg, tableConfig } from './embedded-helpers.js';
import { interceptCatalog } from './iceberg-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let catalog: FilesystemCatalog;
let columns: ClickHouseColumn[];
const live = () => new AbortController().signal;
const noSleep = (): Promise<void> => Promise.resolve();
const anyAge = { minQuietMs: 0, minInputFiles: 2 };

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  catalog = new FilesystemCatalog({ warehouse: temp.path });
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

/** A source of 1,000 trades over ~28 h (two day partitions), offloaded in `windows` runs over 30 h. */
async function offloaded(name: string, windows: number): Promise<{ runner: EmbeddedIcebergRunner; last: Cursor }> {
  await ch.client.command({ query: bronzeDdl(`k2.${name}`) });
  await ch.client.command({ query: bronzeInsert(`k2.${name}`, 0, 1000) });
  const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side' });
  let after = INITIAL_CURSOR;
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 1; i <= windows; i++) {
    const until = microsFromDate(new Date(start + (i * 30 * 3600 * 1000) / windows));
    const result = await runner.run({ runId: `r${i}`, table: tableConfig({ name }), window: { after, untilMicros: until }, attempt: 1 }, live());
    after = result.maxCursor ?? after;
  }
  const r = await ch.client.query({ query: `SELECT name, type FROM system.columns WHERE database = 'k2' AND table = '${name}' ORDER BY position`, format: 'JSONEachRow' });
  columns = await r.json<ClickHouseColumn>();
  return { runner, last: after };
}

async function checksum(name: string, snapshotId?: bigint): Promise<Record<string, string>> {
  const table = await catalog.loadTable({ namespace: ['cold'], name });
  const settings = snapshotId === undefined ? '' : ` SETTINGS iceberg_snapshot_id = ${snapshotId}`;
  const [row] = await readIceberg<Record<string, string>>(ch.client, temp.path, table, (from) => `${checksumQuery(columns, from)}${settings}`);
  return row!;
}

async function partitionsFileCounts(name: string): Promise<number[]> {
  const { metadata } = await catalog.loadTable({ namespace: ['cold'], name });
  const counts = new Map<string, number>();
  for (const f of await listLiveDataFiles(catalog.io, metadata)) counts.set(String(f.dataFile.partition[0]), (counts.get(String(f.dataFile.partition[0])) ?? 0) + 1);
  return [...counts.entries()].sort().map(([, n]) => n);
}

describe('compaction', () => {
  it('rewrites each partition\'s small files into one through ClickHouse; every row is read back identically', async () => {
    const id = { namespace: ['cold'], name: 'compacted' };
    await offloaded('compacted', 8);
    const before = await checksum('compacted');
    expect(before['rows']).toBe('1000');
    const filesBefore = await partitionsFileCounts('compacted');
    expect(filesBefore.every((n) => n > 1)).toBe(true);
    const watermark = committedWatermarkOf((await catalog.loadTable(id)).metadata, 'k2.compacted');

    const dry = await compactTable(catalog, id, new ClickHouseFileRewriter(ch.client), { policy: anyAge, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, snapshotId: null, partitions: 2 });
    expect(await partitionsFileCounts('compacted')).toEqual(filesBefore);

    const progress: number[] = [];
    const report = await compactTable(catalog, id, new ClickHouseFileRewriter(ch.client), { policy: anyAge, onProgress: (done) => progress.push(done) });
    expect(report).toMatchObject({ partitions: 2, groups: 2, filesAdded: 2, dataFilesAfter: 2, dryRun: false });
    expect(report.filesRewritten).toBe(filesBefore.reduce((a, b) => a + b, 0));
    expect(progress).toEqual([1, 2]);
    expect(await partitionsFileCounts('compacted')).toEqual([1, 1]);
    expect(await checksum('compacted')).toEqual(before);

    const { metadata } = await catalog.loadTable(id);
    const head = currentSnapshot(metadata)!;
    expect(head.snapshotId).toBe(report.snapshotId);
    expect(head.summary).toMatchObject({ operation: 'replace', 'total-records': '1000', 'total-data-files': '2', 'added-data-files': '2' });
    // The watermark stays readable from the summaries too: `coldtier.*` carried onto the replace.
    expect(head.summary['coldtier.watermark']).toBeDefined();
    expect(committedWatermarkOf(metadata, 'k2.compacted')).toEqual(watermark);
    // Time travel to the snapshot before the compaction still reads the small files, and to the first offload its rows only.
    expect(await checksum('compacted', head.parentSnapshotId)).toEqual(before);
    const oldest = mainAncestry(metadata).at(-1)!;
    expect((await checksum('compacted', oldest.snapshotId))['rows']).toBe(oldest.summary['added-records']);
    expect(oldest.summary['added-records']).not.toBe('1000');

    // Expiring the pre-compaction snapshots deletes the replaced files, and only them.
    const replaced = (await listLiveDataFiles(catalog.io, metadata, snapshotById(metadata, head.parentSnapshotId!))).map((f) => f.dataFile.filePath);
    const expired = await expireSnapshots(catalog, id, { olderThanMs: Date.now() + 60_000, retainLast: 1 });
    expect(expired.deletedDataFiles).toEqual([...replaced].sort());
    for (const f of replaced) expect(await catalog.io.exists(f)).toBe(false);
    expect(await checksum('compacted')).toEqual(before);
  });

  it('commits around offloads that land meanwhile, in the same and other partitions: 0 rows lost, 0 duplicated', async () => {
    const id = { namespace: ['cold'], name: 'raced' };
    const { runner, last } = await offloaded('raced', 6);
    // More rows arrive while compaction runs, in day 2 (being compacted) and a new day 3.
    await ch.client.command({ query: bronzeInsert('k2.raced', 1000, 1900) });
    const clickhouse = new ClickHouseFileRewriter(ch.client);
    let after = last;
    let raced = 0;
    const offload = async (until: string): Promise<void> => {
      const window = { after, untilMicros: microsFromDate(new Date(until)) };
      const result = await runner.run({ runId: `race${raced++}`, table: tableConfig({ name: 'raced' }), window, attempt: 1 }, live());
      after = result.maxCursor ?? after;
    };
    // An offload into day 2 commits between the plan and the rewrite's first attempt...
    const racing: DataFileRewriter = {
      async rewrite(inputs, output, schema, signal) {
        if (raced === 0) await offload('2024-01-02T08:00:00Z');
        return clickhouse.rewrite(inputs, output, schema, signal);
      },
    };
    // ...and one into days 2 and 3 between the replace's load and its commit, which then conflicts and retries.
    const replaceCommits: number[] = [];
    const contended = interceptCatalog(catalog, {
      commitTable: async (...args) => {
        const snapshot = args[2].find((u) => u.action === 'add-snapshot');
        if (snapshot?.action === 'add-snapshot' && snapshot.snapshot.summary.operation === 'replace') {
          replaceCommits.push(replaceCommits.length);
          if (replaceCommits.length === 1) await offload('2024-01-04T00:00:00Z');
        }
        return catalog.commitTable(...args);
      },
    });
    const report = await compactTable(contended, id, racing, { policy: anyAge, sleep: noSleep });
    expect(raced).toBe(2);
    expect(replaceCommits).toHaveLength(2);
    const { metadata } = await catalog.loadTable(id);
    expect(currentSnapshot(metadata)?.snapshotId).toBe(report.snapshotId);
    expect(currentSnapshot(metadata)?.summary.operation).toBe('replace');
    const [row] = await readIceberg<{ n: string; d: string }>(ch.client, temp.path, await catalog.loadTable(id), (from) =>
      `SELECT toString(count()) AS n, toString(uniqExact(sequence_number)) AS d FROM ${from}`,
    );
    expect(row).toEqual({ n: '1900', d: '1900' });
  });

  it('refuses, without retrying, a rewrite whose input files another compaction already replaced', async () => {
    const id = { namespace: ['cold'], name: 'twice' };
    await offloaded('twice', 4);
    const clickhouse = new ClickHouseFileRewriter(ch.client);
    let nested = false;
    const interfering: DataFileRewriter = {
      async rewrite(inputs, output, schema, signal) {
        if (!nested) {
          nested = true;
          await compactTable(catalog, id, clickhouse, { policy: anyAge });
        }
        return clickhouse.rewrite(inputs, output, schema, signal);
      },
    };
    const before = await checksum('twice');
    const error = await compactTable(catalog, id, interfering, { policy: anyAge, sleep: noSleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RewriteValidationError);
    expect((error as RewriteValidationError).retryable).toBe(false);
    expect(await checksum('twice')).toEqual(before);
    // The refused rewrite's new files were removed: only the winner's remain live and on disk.
    const { metadata } = await catalog.loadTable(id);
    const liveFiles = (await listLiveDataFiles(catalog.io, metadata)).map((f) => f.dataFile.filePath);
    const onDisk = (await catalog.io.list(`${metadata.location}/data/exchange_timestamp_day=2024-01-01`)).filter((p) => p.includes('compact-'));
    expect(onDisk.every((p) => liveFiles.includes(p))).toBe(true);
  });

  it('keeps every row exactly once while offloads and repeated compactions run side by side', { timeout: 240_000 }, async () => {
    const id = { namespace: ['cold'], name: 'side_by_side' };
    const { runner, last } = await offloaded('side_by_side', 4);
    await ch.client.command({ query: bronzeInsert('k2.side_by_side', 1000, 2200) });
    let after = last;
    let offloading = true;
    const offloads = (async () => {
      // Twelve more windows of 4 h over days 2 and 3.
      for (let i = 1; i <= 12; i++) {
        const untilMicros = microsFromDate(new Date(Date.parse('2024-01-01T20:00:00Z') + i * 4 * 3600 * 1000));
        const result = await runner.run({ runId: `side${i}`, table: tableConfig({ name: 'side_by_side' }), window: { after, untilMicros }, attempt: 1 }, live());
        after = result.maxCursor ?? after;
      }
      offloading = false;
    })();
    const compactions = (async () => {
      let runs = 0;
      while (offloading || runs === 0) {
        runs++;
        // Only appends race this compaction, and they never invalidate a rewrite: any error fails the test.
        await compactTable(catalog, id, new ClickHouseFileRewriter(ch.client), { policy: anyAge, sleep: noSleep });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return runs;
    })();
    const [, runs] = await Promise.all([offloads, compactions]);
    expect(runs).toBeGreaterThan(1);
    const table = await catalog.loadTable(id);
    const [row] = await readIceberg<{ n: string; d: string }>(ch.client, temp.path, table, (from) =>
      `SELECT toString(count()) AS n, toString(uniqExact(sequence_number)) AS d FROM ${from}`,
    );
    expect(row).toEqual({ n: '2200', d: '2200' });
    expect(mainAncestry(table.metadata).some((s) => s.summary.operation === 'replace')).toBe(true);
  });
});
