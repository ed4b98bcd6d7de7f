import { describe, expect, it } from 'vitest';
import { CommitConflictError } from '../src/iceberg/catalog/catalog.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, useTradesTable } from './iceberg-helpers.js';

describe('optimistic concurrency of fast appends', () => {
  const table = useTradesTable();
  const { id } = table;

  it('lands concurrent appends by reloading and re-applying, chaining the snapshots', async () => {
    const sleeps: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      sleeps.push(ms);
      return Promise.resolve();
    };
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => fastAppend(table.catalog, id, [fakeDataFile(`/data/f${i}.parquet`, 10 * (i + 1))], { sleep, retry: { retries: 10 } })),
    );
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    expect(sleeps[0]).toBe(100);

    const { metadata } = await table.catalog.loadTable(id);
    const chain = mainAncestry(metadata);
    expect(chain).toHaveLength(4);
    chain.forEach((s, i) => {
      expect(s.sequenceNumber).toBe(4 - i);
      expect(s.parentSnapshotId).toBe(chain[i + 1]?.snapshotId);
    });
    expect(currentSnapshot(metadata)?.summary['total-records']).toBe('100');
    expect(currentSnapshot(metadata)?.summary['total-data-files']).toBe('4');
    const live = await listLiveDataFiles(table.catalog.io, metadata);
    expect(live.map((f) => f.dataFile.filePath).sort()).toEqual(['/data/f0.parquet', '/data/f1.parquet', '/data/f2.parquet', '/data/f3.parquet']);
    // Each file keeps the sequence number of the snapshot that added it.
    for (const f of live) {
      expect(f.sequenceNumber).toBe(BigInt(chain.find((s) => s.snapshotId === f.snapshotId)?.sequenceNumber ?? -1));
    }
    // Failed attempts leave no manifest lists behind: one per snapshot.
    const lists = (await table.catalog.io.list(`${table.catalog.tableLocation(id)}/metadata`)).filter((p) => /\/snap-/.test(p));
    expect(lists).toHaveLength(4);
  });

  it('rejects a commit whose requirements the latest metadata fails', async () => {
    const base = await table.catalog.loadTable(id);
    await fastAppend(table.catalog, id, [fakeDataFile('/data/a.parquet', 1)]);
    await expect(
      table.catalog.commitTable(id, [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: base.metadata.currentSnapshotId }], [
        { action: 'set-properties', updates: { a: 'b' } },
      ]),
    ).rejects.toBeInstanceOf(CommitConflictError);
    expect((await table.catalog.loadTable(id)).metadata.properties['a']).toBeUndefined();
  });

  it('gives up after the retry budget with a retryable CommitConflictError', async () => {
    let calls = 0;
    const error = await fastAppend(table.catalog, id, [fakeDataFile('/data/a.parquet', 1)], {
      sleep: noSleep,
      retry: { retries: 2 },
      // Another writer lands between every load and commit.
      validate: async () => {
        calls++;
        await fastAppend(table.catalog, id, [fakeDataFile(`/data/other${calls}.parquet`, 1)]);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitConflictError);
    expect((error as CommitConflictError).retryable).toBe(true);
    expect(calls).toBe(3);
    const { metadata } = await table.catalog.loadTable(id);
    expect((await listLiveDataFiles(table.catalog.io, metadata)).map((f) => f.dataFile.filePath)).not.toContain('/data/a.parquet');
  });

  it('lets validate refuse the commit against the fresh base', async () => {
    await fastAppend(table.catalog, id, [fakeDataFile('/data/a.parquet', 1)], { snapshotProperties: { 'coldtier.watermark': 'w9' } });
    const refusal = new Error('watermark moved');
    await expect(
      fastAppend(table.catalog, id, [fakeDataFile('/data/b.parquet', 1)], {
        validate: (base) => {
          if (currentSnapshot(base.metadata)?.summary['coldtier.watermark'] !== 'w1') throw refusal;
        },
      }),
    ).rejects.toBe(refusal);
    const { metadata } = await table.catalog.loadTable(id);
    expect(mainAncestry(metadata)).toHaveLength(1);
    const files = await table.catalog.io.list(`${table.catalog.tableLocation(id)}/metadata`);
    expect(files.filter((p) => p.endsWith('.avro'))).toHaveLength(2);
  });
});
