import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createTempDir, hadoopCatalogConf, runPyIceberg, runSparkSql, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { LoadedTable } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { ClickHouseFileRewriter } from '../src/iceberg/maintenance/compaction.js';
import { maintainTable } from '../src/iceberg/maintenance/maintain.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import { currentSnapshot, snapshotById } from '../src/iceberg/spec/table-metadata.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { bronzeDdl, bronzeInsert, checksumQuery, cycles, readIceberg, tableConfig } from './embedded-helpers.js';

/**
 * The "simulated day": 96 fifteen-minute offloads of ~2,000 rows
 * into one table, then maintenance. Readers (chdb's Iceberg reader,
 * PyIceberg and Spark) must see the same rows before and after, and at a
 * retained snapshot (time travel); the counts before/after are printed.
 */

const SCRIPT = fileURLToPath(new URL('interop/scan_snapshot.py', import.meta.url));
const CYCLES = 96;
const ROWS = CYCLES * 2000;
const ONE_DAY = "exchange_timestamp >= '2024-01-01T00:00:00+00:00' AND exchange_timestamp < '2024-01-02T00:00:00+00:00'";

interface PyScan {
  readonly rows: string;
  readonly files_planned: number;
  readonly plan_ms: number;
  readonly sequence_sum: string;
  readonly trade_ids: string;
  readonly timestamp_sum: string;
}

let ch: EmbeddedClickHouse;
let temp: TempDir;
let columns: ClickHouseColumn[];

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

async function pyiceberg(table: LoadedTable, snapshotId?: bigint): Promise<PyScan> {
  const request = { static: table.metadataLocation, filter: ONE_DAY, ...(snapshotId === undefined ? {} : { snapshot_id: snapshotId.toString() }) };
  return JSON.parse(await runPyIceberg(SCRIPT, [JSON.stringify(request)])) as PyScan;
}

async function chdbChecksum(table: LoadedTable, snapshotId?: bigint): Promise<Record<string, string>> {
  const settings = snapshotId === undefined ? '' : ` SETTINGS iceberg_snapshot_id = ${snapshotId}`;
  const [row] = await readIceberg<Record<string, string>>(ch.client, temp.path, table, (from) => `${checksumQuery(columns, from)}${settings}`);
  return row!;
}

/**
 * PyIceberg's aggregates, computed by Spark (one JVM start for every read):
 * at the current snapshot and at each snapshot id (`VERSION AS OF`). Both
 * engines sum 64-bit integers with two's-complement wrap-around, so the
 * timestamp sums agree even past 2^63.
 */
async function sparkScans(snapshotIds: readonly bigint[]): Promise<Omit<PyScan, 'plan_ms' | 'files_planned'>[]> {
  const localDir = `${temp.path}/spark-scratch`;
  await mkdir(localDir, { recursive: true });
  const scan = (version: string): string =>
    `SELECT CAST(count(*) AS STRING) AS rows, CAST(sum(sequence_number) AS STRING) AS sequence_sum,
       CAST(count(DISTINCT trade_id) AS STRING) AS trade_ids,
       CAST(sum(unix_micros(CAST(exchange_timestamp AS TIMESTAMP))) AS STRING) AS timestamp_sum
     FROM fs.cold.day ${version}
     WHERE exchange_timestamp >= TIMESTAMP '2024-01-01 00:00:00' AND exchange_timestamp < TIMESTAMP '2024-01-02 00:00:00'`;
  const results = await runSparkSql({
    localDir,
    conf: hadoopCatalogConf('fs', temp.path),
    statements: [scan(''), ...snapshotIds.map((snapshotId) => scan(`VERSION AS OF ${snapshotId}`))],
  });
  return results.map((rows) => rows[0] as unknown as Omit<PyScan, 'plan_ms' | 'files_planned'>);
}

const sameRows = (scan: PyScan): Omit<PyScan, 'plan_ms' | 'files_planned'> => ({
  rows: scan.rows,
  sequence_sum: scan.sequence_sum,
  trade_ids: scan.trade_ids,
  timestamp_sum: scan.timestamp_sum,
});

describe('a simulated day of offloads, then maintenance', () => {
  it('compacts 96 files into one, bounds manifests and snapshots, and every reader sees the same rows before, after and at a retained snapshot', { timeout: 600_000 }, async () => {
    await ch.client.command({ query: bronzeDdl('k2.day') });
    // 2,000 trades per 15 minutes: pairs 900 ms apart.
    await ch.client.command({ query: bronzeInsert('k2.day', 0, ROWS, 1, 900) });
    const r = await ch.client.query({ query: "SELECT name, type FROM system.columns WHERE database = 'k2' AND table = 'day' ORDER BY position", format: 'JSONEachRow' });
    columns = await r.json<ClickHouseColumn>();

    const clock = new ManualClock(new Date('2024-01-01T00:20:00Z'));
    const catalog = new FilesystemCatalog({ warehouse: temp.path, clock });
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side', clock });
    const orchestrator = cycles([tableConfig({ name: 'day' })], new InMemoryWatermarkStore(), runner, clock);
    for (let i = 0; i < CYCLES; i++) {
      expect((await orchestrator.runCycle()).status).toBe('success');
      clock.advance(15 * 60 * 1000);
    }
    const id = { namespace: ['cold'], name: 'day' };
    const before = await catalog.loadTable(id);
    expect(currentSnapshot(before.metadata)?.summary['total-records']).toBe(String(ROWS));
    const chdbBefore = await chdbChecksum(before);
    const pyBefore = await pyiceberg(before);
    expect(chdbBefore['rows']).toBe(String(ROWS));
    expect(pyBefore.rows).toBe(String(ROWS));

    // Maintenance two hours after the day closed; expiry keeps the last 12 hours of snapshots.
    clock.set(new Date('2024-01-02T02:00:00Z'));
    const report = await maintainTable(catalog, id, {
      rewriter: new ClickHouseFileRewriter(ch.client),
      expire: { olderThanMs: clock.now().getTime() - 12 * 3600 * 1000 },
      clock,
    });
    expect(report.actions.map((a) => [a.action, a.status])).toEqual([
      ['compact', 'success'],
      ['rewrite_manifests', 'success'],
      ['expire_snapshots', 'success'],
      ['remove_orphans', 'success'],
    ]);
    expect(report.before).toMatchObject({ snapshots: CYCLES, dataFiles: CYCLES, partitions: 1, maxFilesPerPartition: CYCLES });
    expect(report.after).toMatchObject({ dataFiles: 1, partitions: 1, maxFilesPerPartition: 1, manifests: 1 });
    expect(report.after.snapshots).toBeLessThan(CYCLES / 2 + 5);

    const after = await catalog.loadTable(id);
    expect(await chdbChecksum(after)).toEqual(chdbBefore);
    const pyAfter = await pyiceberg(after);
    expect(sameRows(pyAfter)).toEqual(sameRows(pyBefore));
    expect(pyAfter.files_planned).toBe(1);

    // Time travel to a retained snapshot from before the compaction: its rows, read from its (still present) small files.
    const replace = mainAncestry(after.metadata).find((s) => s.summary.operation === 'replace' && s.summary['added-data-files'] === '1')!;
    const retained = snapshotById(after.metadata, replace.parentSnapshotId!)!;
    const older = mainAncestry(after.metadata).at(-1)!;
    expect(older.summary.operation).toBe('append');
    const olderRows = older.summary['total-records']!;
    expect(Number(olderRows)).toBeLessThan(ROWS);
    expect((await chdbChecksum(after, older.snapshotId))['rows']).toBe(olderRows);
    expect((await pyiceberg(after, older.snapshotId)).rows).toBe(olderRows);
    expect(sameRows(await pyiceberg(after, retained.snapshotId))).toEqual(sameRows(pyBefore));

    // Spark reads the state before maintenance through the retained pre-compaction head: the same manifest
    // list and small files it would have planned before, so one Spark start serves before, after and time travel.
    expect(retained.snapshotId).toBe(currentSnapshot(before.metadata)!.snapshotId);
    const [sparkAfter, sparkBefore, sparkOlder] = await sparkScans([retained.snapshotId, older.snapshotId]);
    expect(sparkBefore).toEqual(sameRows(pyBefore));
    expect(sparkAfter).toEqual(sameRows(pyAfter));
    expect(sparkOlder?.rows).toBe(olderRows);

    console.log(
      `simulated day: data files ${report.before.dataFiles} -> ${report.after.dataFiles}, manifests ${report.before.manifests} -> ${report.after.manifests}, ` +
        `snapshots ${report.before.snapshots} -> ${report.after.snapshots}; PyIceberg one-day plan ${pyBefore.plan_ms} ms / ${pyBefore.files_planned} files -> ` +
        `${pyAfter.plan_ms} ms / ${pyAfter.files_planned} files`,
    );
  });
});
