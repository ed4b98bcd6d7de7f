import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { expireSnapshots } from '../src/iceberg/transaction/expire-snapshots.js';
import { newSnapshotId } from '../src/iceberg/transaction/snapshot-id.js';
import { produceSnapshot } from '../src/iceberg/transaction/snapshot-producer.js';
import { mainAncestry, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { committedWatermarkOf, watermarkPropertyKey } from '../src/runner/embedded/summary.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, cycles, readIceberg, tableConfig } from './embedded-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let catalog: FilesystemCatalog;
const id = { namespace: ['cold'], name: 'marked' };

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  catalog = new FilesystemCatalog({ warehouse: temp.path });
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  await ch.client.command({ query: bronzeDdl('k2.marked') });
  await ch.client.command({ query: bronzeInsert('k2.marked', 0, 400) });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

/** What Spark's `rewrite_data_files` leaves: a `replace` snapshot over the same files, with no `coldtier.*` summary. */
async function foreignRewrite(): Promise<void> {
  const base = await catalog.loadTable(id);
  const snapshotId = newSnapshotId();
  const produced = await produceSnapshot({
    io: catalog.io,
    base,
    snapshotId,
    manifests: await readSnapshotManifests(catalog.io, currentSnapshot(base.metadata)!),
    summary: { operation: 'replace', 'engine-name': 'spark' },
    manifestListLocation: `${base.metadata.location}/metadata/snap-${snapshotId}-spark.avro`,
    nowMs: Date.now(),
  });
  await catalog.commitTable(id, produced.requirements, produced.updates);
}

describe('the exactly-once marker', () => {
  it('survives another engine expiring every Coldtier snapshot: a rewound watermark store offloads nothing twice', async () => {
    const table = tableConfig({ name: 'marked' });
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    const window = { after: INITIAL_CURSOR, untilMicros: microsFromDate(new Date('2024-01-01T06:00:00Z')) };
    const first = await runner.run({ runId: 'r1', table, window, attempt: 1 }, new AbortController().signal);
    expect(first.rowsWritten).toBeGreaterThan(0);
    expect((await catalog.loadTable(id)).metadata.properties[watermarkPropertyKey('k2.marked')]).toBeDefined();

    await foreignRewrite();
    // `CALL expire_snapshots(..., retain_last => 1)` right after Spark's own commit.
    const expired = await expireSnapshots(catalog, id, { olderThanMs: Date.now() + 60_000, retainLast: 1 });
    expect(expired.expiredSnapshotIds).toHaveLength(1);
    const { metadata } = await catalog.loadTable(id);
    expect(mainAncestry(metadata).some((s) => s.summary['coldtier.watermark'] !== undefined)).toBe(false);
    expect(committedWatermarkOf(metadata, 'k2.marked')).toEqual(first.maxCursor);

    // The watermark store lost its state (restored from an old backup): recovery reads the table property.
    const store = new InMemoryWatermarkStore();
    const report = await cycles([table], store, runner, new ManualClock(new Date('2024-01-05T00:00:00Z'))).runCycle();
    expect(report.tables[0]).toMatchObject({ status: 'success', rows: 400 - first.rowsWritten });
    const loaded = await catalog.loadTable(id);
    const [row] = await readIceberg<{ n: string; d: string }>(
      ch.client,
      temp.path,
      loaded,
      (from) => `SELECT toString(count()) AS n, toString(uniqExact(sequence_number)) AS d FROM ${from}`,
    );
    expect(row).toEqual({ n: '400', d: '400' });
  });
});
