import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { JobFailedError, UnknownTableError, WatermarkConflictError } from '../src/errors.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SchemaMismatchError } from '../src/iceberg/schema-mapping/evolve.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import type { OffloadJob } from '../src/runner/contract.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import type { EmbeddedStage } from '../src/runner/embedded/embedded-runner.js';
import { cleanOrphanDataFiles, findOrphanDataFiles } from '../src/runner/embedded/orphans.js';
import { committedWatermarkOf } from '../src/runner/embedded/summary.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, cycles, readIceberg, tableConfig } from './embedded-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let catalog: FilesystemCatalog;
const live = () => new AbortController().signal;

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

async function sourceTable(name: string, rows = 400): Promise<void> {
  await ch.client.command({ query: bronzeDdl(`k2.${name}`) });
  await ch.client.command({ query: bronzeInsert(`k2.${name}`, 0, rows) });
}

function job(name: string, runId: string, after = INITIAL_CURSOR, until = '2024-01-05T00:00:00Z', overrides: Partial<OffloadJob> = {}): OffloadJob {
  return { runId, table: tableConfig({ name }), window: { after, untilMicros: microsFromDate(new Date(until)) }, attempt: 1, ...overrides };
}

async function icebergCount(name: string): Promise<number> {
  const table = await catalog.loadTable({ namespace: ['cold'], name });
  const [row] = await readIceberg<{ n: string }>(ch.client, temp.path, table, (from) => `SELECT toString(count()) AS n FROM ${from}`);
  return Number(row!.n);
}

describe('EmbeddedIcebergRunner', () => {
  it('with server-side export, has ClickHouse write the files and offloads consecutive windows exactly once', async () => {
    await sourceTable('server_file');
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side' });
    const first = await runner.run(job('server_file', 'r1', INITIAL_CURSOR, '2024-01-01T06:00:00Z'), live());
    const second = await runner.run(job('server_file', 'r2', first.maxCursor!), live());
    expect(first.rowsWritten + second.rowsWritten).toBe(400);
    expect(first.rowsWritten).toBeGreaterThan(0);
    expect(second.maxCursor?.sequence).toBe(399n);
    expect(await icebergCount('server_file')).toBe(400);
  });

  it('reports rows, the exact last cursor and the snapshot id, and stages in order', async () => {
    await sourceTable('staged');
    const stages: EmbeddedStage[] = [];
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, onStage: (stage) => void stages.push(stage) });
    const result = await runner.run(job('staged', 'r1', INITIAL_CURSOR, '2024-01-01T01:00:00Z'), live());
    const table = await catalog.loadTable({ namespace: ['cold'], name: 'staged' });
    // 200.003 s per pair of trades: the first hour holds pairs 0..17, i.e. trades 0..35.
    expect(result).toMatchObject({ rowsWritten: 36, snapshotId: currentSnapshot(table.metadata)!.snapshotId.toString() });
    expect(result.maxCursor).toEqual({ timestampMicros: microsFromDate(new Date('2024-01-01T00:56:40.051Z')), sequence: 35n, tieBreakers: [] });
    expect(committedWatermarkOf(table.metadata, 'k2.staged')).toEqual(result.maxCursor);
    expect(await runner.committedWatermark(tableConfig({ name: 'staged' }), live())).toEqual(result.maxCursor);
    expect(stages).toEqual(['planned', 'files_written', 'committing', 'committed']);
    expect(result.bytesWritten).toBeGreaterThan(0);
  });

  it('commits nothing for an empty window', async () => {
    await sourceTable('empty', 10);
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    const result = await runner.run(job('empty', 'r1', INITIAL_CURSOR, '2023-12-31T00:00:00Z'), live());
    expect(result).toMatchObject({ rowsWritten: 0, maxCursor: null, snapshotId: null, bytesWritten: 0 });
    expect(currentSnapshot((await catalog.loadTable({ namespace: ['cold'], name: 'empty' })).metadata)).toBeUndefined();
    expect(await runner.committedWatermark(tableConfig({ name: 'empty' }), live())).toBeNull();
  });

  it('refuses a stale writer at commit; its files are orphans no snapshot references', async () => {
    await sourceTable('fenced');
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    const first = await runner.run(job('fenced', 'current', INITIAL_CURSOR, '2024-01-01T06:00:00Z'), live());
    // A zombie planned from the initial watermark before `current` committed, and writes now.
    const zombie = await runner.run(job('fenced', 'zombie', INITIAL_CURSOR), live()).catch((e: unknown) => e);
    expect(zombie).toBeInstanceOf(JobFailedError);
    expect(zombie).toMatchObject({ errorType: 'process_error', retryable: false });
    expect((zombie as JobFailedError).cause).toBeInstanceOf(WatermarkConflictError);
    expect((zombie as Error).message).toMatch(/another writer offloaded this window; commit refused/);
    const id = { namespace: ['cold'], name: 'fenced' };
    expect(currentSnapshot((await catalog.loadTable(id)).metadata)?.snapshotId.toString()).toBe(first.snapshotId);
    expect(await icebergCount('fenced')).toBe(first.rowsWritten);

    // Young files are spared (a run may be writing them); old enough ones are the zombie's only.
    expect(await findOrphanDataFiles(catalog, id)).toEqual([]);
    const orphans = await findOrphanDataFiles(catalog, id, { olderThanMs: 0 });
    expect(orphans.length).toBeGreaterThan(0);
    expect(orphans.every((o) => o.location.includes('/zombie-1-'))).toBe(true);
    expect(await cleanOrphanDataFiles(catalog, id, { olderThanMs: 0 })).toEqual(orphans);
    expect(await findOrphanDataFiles(catalog, id, { olderThanMs: 0 })).toEqual([]);
    expect(await icebergCount('fenced')).toBe(first.rowsWritten);

    // Planned from the table's own watermark, the next run commits.
    const next = await runner.run(job('fenced', 'next', first.maxCursor!), live());
    expect(next.rowsWritten + first.rowsWritten).toBe(400);
  });

  it('recovers a commit whose watermark update was lost: the store fast-forwards, nothing is written twice', async () => {
    await sourceTable('recovered');
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    // The process that ran this died before it could advance the watermark.
    const lost = await runner.run(job('recovered', 'lost', INITIAL_CURSOR, '2024-01-01T06:00:00Z'), live());
    const store = new InMemoryWatermarkStore();
    const clock = new ManualClock(new Date('2024-01-05T00:00:00Z'));
    const report = await cycles([tableConfig({ name: 'recovered' })], store, runner, clock).runCycle();
    expect(report.tables[0]).toMatchObject({ status: 'success', rows: 400 - lost.rowsWritten });
    const [run] = await store.recentRuns({ table: 'recovered' });
    expect(run?.window.after).toEqual(lost.maxCursor);
    expect(await icebergCount('recovered')).toBe(400);
  });

  it('evolves the Iceberg schema on a new ClickHouse column, or fails without moving the watermark', async () => {
    await sourceTable('evolving', 100);
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    const store = new InMemoryWatermarkStore();
    const clock = new ManualClock(new Date('2024-01-05T00:00:00Z'));
    const strict = tableConfig({ name: 'evolving' });
    expect((await cycles([strict], store, runner, clock).runCycle()).status).toBe('success');
    const before = (await store.get('evolving'))!.cursor;

    await ch.client.command({ query: 'ALTER TABLE k2.evolving ADD COLUMN venue Nullable(String)' });
    await ch.client.command({ query: bronzeInsert('k2.evolving', 100, 150) });
    await ch.client.command({ query: `ALTER TABLE k2.evolving UPDATE venue = 'lx' WHERE sequence_number >= 100 SETTINGS mutations_sync = 1` });
    clock.set(new Date('2024-01-06T00:00:00Z'));
    const refused = await cycles([strict], store, runner, clock).runCycle();
    expect(refused.tables[0]).toMatchObject({ status: 'failed', errorType: 'process_error' });
    expect(refused.tables[0]).toHaveProperty('message', expect.stringMatching(/do not match the Iceberg schema: venue \(added/));
    expect((await store.get('evolving'))!.cursor).toEqual(before);
    const failure = await runner.run(job('evolving', 'direct', before), live()).catch((e: unknown) => e);
    expect((failure as JobFailedError).cause).toBeInstanceOf(SchemaMismatchError);

    const evolving = tableConfig({ name: 'evolving', onSchemaChange: 'evolve' });
    const evolved = await cycles([evolving], store, runner, clock).runCycle();
    expect(evolved.tables[0]).toMatchObject({ status: 'success', rows: 50 });
    const table = await catalog.loadTable({ namespace: ['cold'], name: 'evolving' });
    expect(currentSchema(table.metadata).fields.at(-1)).toMatchObject({ name: 'venue', required: false, type: 'string' });
    const rows = await readIceberg<{ venue: string | null; n: string }>(ch.client, temp.path, table, (from) =>
      `SELECT venue, toString(count()) AS n FROM ${from} GROUP BY venue ORDER BY venue NULLS FIRST`,
    );
    expect(rows).toEqual([{ venue: null, n: '100' }, { venue: 'lx', n: '50' }]);
  });

  it('fails on an unknown source table without creating the target or moving the watermark', async () => {
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog });
    const store = new InMemoryWatermarkStore();
    const report = await cycles([tableConfig({ name: 'ghost' })], store, runner, new ManualClock(new Date('2024-01-05T00:00:00Z'))).runCycle();
    expect(report.tables[0]).toMatchObject({ status: 'failed', errorType: 'process_error', attempts: 1 });
    expect(report.tables[0]).toHaveProperty('message', expect.stringMatching(/unknown table k2\.ghost/));
    const failure = await runner.run(job('ghost', 'direct'), live()).catch((e: unknown) => e);
    expect((failure as JobFailedError).cause).toBeInstanceOf(UnknownTableError);
    expect((await store.get('ghost'))!.cursor).toEqual(INITIAL_CURSOR);
    expect(await catalog.tableExists({ namespace: ['cold'], name: 'ghost' })).toBe(false);
  });

  it('stops on abort before the commit, as an abort failure with the signal reason', async () => {
    await sourceTable('aborted');
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const runner = new EmbeddedIcebergRunner({
      clickhouse: ch.client,
      catalog,
      onStage: (stage) => {
        if (stage === 'files_written') controller.abort(reason);
      },
    });
    const failure = await runner.run(job('aborted', 'r1'), controller.signal).catch((e: unknown) => e);
    expect(failure).toMatchObject({ errorType: 'process_error', retryable: false, message: 'Offload aborted: aborted (job stopped)', cause: reason });
    expect(currentSnapshot((await catalog.loadTable({ namespace: ['cold'], name: 'aborted' })).metadata)).toBeUndefined();
    await expect(runner.run(job('aborted', 'r2'), AbortSignal.abort(reason))).rejects.toMatchObject({ cause: reason });
  });

  it('classifies an unreachable ClickHouse as a retryable connection failure', async () => {
    const client = createClient({ url: 'http://127.0.0.1:9', request_timeout: 5_000, log: { level: ClickHouseLogLevel.OFF } });
    try {
      const runner = new EmbeddedIcebergRunner({ clickhouse: client, catalog });
      const failure = await runner.run(job('staged', 'r1'), live()).catch((e: unknown) => e);
      expect(failure).toMatchObject({ errorType: 'connection', retryable: true });
      expect((failure as Error).message).toMatch(/^Offload failed: staged \(connection error\)/);
    } finally {
      await client.close();
    }
  });

  it('refuses a shared transaction without a SQL catalog', () => {
    const store = { completeRun: () => Promise.reject(new Error('unused')) };
    expect(() => new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, sharedTransaction: { store } })).toThrow(/sharedTransaction: needs a SqlCatalog/);
  });
});
