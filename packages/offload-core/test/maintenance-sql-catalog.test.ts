import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, createTestDatabase, openTestPool, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir, TestDatabase } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { ClickHouseFileRewriter } from '../src/iceberg/maintenance/compaction.js';
import { maintainTable } from '../src/iceberg/maintenance/maintain.js';
import type { OrphanReport } from '../src/iceberg/maintenance/orphans.js';
import type { ExpireSnapshotsReport } from '../src/iceberg/transaction/expire-snapshots.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { committedWatermarkOf } from '../src/runner/embedded/summary.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, readIceberg, tableConfig } from './embedded-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let database: TestDatabase;
let pool: pg.Pool;
let catalog: SqlCatalog;

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  database = await createTestDatabase();
  pool = openTestPool({ connectionString: database.url });
  catalog = new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: temp.path });
  await catalog.initialize();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
  await ch?.close();
  await temp?.remove();
});

describe('maintenance on the SQL (JDBC) catalog', () => {
  it('compacts, expires the replaced files and removes a killed run\'s leftovers; the rows and the watermark stay', { timeout: 180_000 }, async () => {
    await ch.client.command({ query: bronzeDdl('k2.sqlt') });
    await ch.client.command({ query: bronzeInsert('k2.sqlt', 0, 1000) });
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side' });
    let after = INITIAL_CURSOR;
    for (let i = 1; i <= 6; i++) {
      const untilMicros = microsFromDate(new Date(Date.parse('2024-01-01T00:00:00Z') + i * 5 * 3600 * 1000));
      after = (await runner.run({ runId: `r${i}`, table: tableConfig({ name: 'sqlt' }), window: { after, untilMicros }, attempt: 1 }, new AbortController().signal)).maxCursor ?? after;
    }
    const id = { namespace: ['cold'], name: 'sqlt' };
    const before = await catalog.loadTable(id);
    const count = async (): Promise<string> => {
      const [row] = await readIceberg<{ n: string; s: string }>(ch.client, temp.path, await catalog.loadTable(id), (from) => `SELECT toString(count()) AS n, toString(sum(sequence_number)) AS s FROM ${from}`);
      return `${row!.n}/${row!.s}`;
    };
    const rowsBefore = await count();
    expect(rowsBefore).toBe(`1000/${(999 * 1000) / 2}`);
    const leftover = join(before.metadata.location, 'data', 'killed-00000.parquet');
    await writeFile(leftover, 'x');
    const old = new Date(Date.now() - 4 * 24 * 3600 * 1000);
    await utimes(leftover, old, old);

    const report = await maintainTable(catalog, id, {
      rewriter: new ClickHouseFileRewriter(ch.client),
      compaction: { minQuietMs: 0, minInputFiles: 2 },
      expire: { olderThanMs: Date.now() + 60_000, retainLast: 1 },
    });
    expect(report.actions.map((a) => a.status)).toEqual(['success', 'success', 'success', 'success']);
    expect(report.after).toMatchObject({ dataFiles: 2, maxFilesPerPartition: 1, snapshots: 1 });
    expect(report.before.dataFiles).toBeGreaterThan(2);
    const expired = report.actions.find((a) => a.action === 'expire_snapshots')!.detail as ExpireSnapshotsReport;
    expect(expired.deletedDataFiles).toHaveLength(report.before.dataFiles);
    const orphans = report.actions.find((a) => a.action === 'remove_orphans')!.detail as OrphanReport;
    expect(orphans.dataFiles.map((f) => f.location)).toEqual([leftover]);
    expect(await count()).toBe(rowsBefore);
    expect(committedWatermarkOf((await catalog.loadTable(id)).metadata, 'k2.sqlt')).toEqual(after);
  });
});
