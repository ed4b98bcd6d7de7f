import { createTempDir, hadoopCatalogConf, runSparkSql, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { currentSchema } from '../src/iceberg/spec/table-metadata.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { SUMMARY_WATERMARK, committedWatermarkOf, watermarkPropertyKey } from '../src/runner/embedded/summary.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { microsFromDate } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, cycles, readIceberg, tableConfig } from './embedded-helpers.js';

/**
 * Issue 12's marker case with real Spark: after Spark's own insert,
 * `expire_snapshots(retain_last => 1)` drops every Coldtier snapshot (and
 * with them the `coldtier.watermark` summaries). A watermark store rewound to
 * an old value must still resume from what the table holds.
 */

const SOURCE_ROWS = 400;
/** Spark's own row: a copy of trade 0 moved past every source sequence number, so readers can tell it apart. */
const SPARK_SEQUENCE = 1_000_000;

let ch: EmbeddedClickHouse;
let temp: TempDir;
let warehouse: string;
let catalog: FilesystemCatalog;
const id = { namespace: ['cold'], name: 'marked' };

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  warehouse = `${temp.path}/warehouse`;
  catalog = new FilesystemCatalog({ warehouse });
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  await ch.client.command({ query: bronzeDdl('k2.marked') });
  await ch.client.command({ query: bronzeInsert('k2.marked', 0, SOURCE_ROWS) });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

describe('the exactly-once marker', () => {
  it('survives Spark expiring every Coldtier snapshot: a store rewound to an old watermark offloads nothing twice', { timeout: 300_000 }, async () => {
    const table = tableConfig({ name: 'marked' });
    const clock = new ManualClock(new Date('2024-01-01T03:00:00Z'));
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, clock });
    // The store as a backup taken after the first window: it never sees the second.
    const rewound = new InMemoryWatermarkStore({ clock });
    const first = (await cycles([table], rewound, runner, clock).runCycle()).tables[0];
    if (first?.status !== 'success') throw new Error(`the first window failed: ${JSON.stringify(first)}`);
    const oldWatermark = committedWatermarkOf((await catalog.loadTable(id)).metadata, 'k2.marked')!;
    const second = await runner.run(
      { runId: 'second-window', table, window: { after: oldWatermark, untilMicros: microsFromDate(new Date('2024-01-01T06:00:00Z')) }, attempt: 1 },
      new AbortController().signal,
    );
    expect(second.rowsWritten).toBeGreaterThan(0);
    const offloaded = first.rows + second.rowsWritten;
    expect(offloaded).toBeLessThan(SOURCE_ROWS);

    const fields = currentSchema((await catalog.loadTable(id)).metadata).fields.map((f) =>
      f.name === 'sequence_number' ? `sequence_number + ${SPARK_SEQUENCE} AS sequence_number` : `\`${f.name}\``,
    );
    const target = 'fs.cold.marked';
    const [, expired, snapshots] = await runSparkSql({
      localDir: temp.path,
      conf: hadoopCatalogConf('fs', warehouse),
      statements: [
        `INSERT INTO ${target} SELECT ${fields.join(', ')} FROM ${target} WHERE sequence_number = 0`,
        `CALL fs.system.expire_snapshots(table => 'cold.marked', older_than => TIMESTAMP '2999-01-01 00:00:00', retain_last => 1)`,
        `SELECT operation, summary['${SUMMARY_WATERMARK}'] IS NULL AS unmarked FROM ${target}.snapshots`,
      ],
    });
    expect(expired?.[0]?.['deleted_manifest_lists_count']).toBeGreaterThanOrEqual(2);
    expect(snapshots).toEqual([{ operation: 'append', unmarked: true }]);

    const { metadata } = await catalog.loadTable(id);
    expect(mainAncestry(metadata).some((s) => s.summary[SUMMARY_WATERMARK] !== undefined)).toBe(false);
    expect(metadata.properties[watermarkPropertyKey('k2.marked')]).toBeDefined();
    expect(committedWatermarkOf(metadata, 'k2.marked')).toEqual(second.maxCursor);

    clock.set(new Date('2024-01-05T00:00:00Z'));
    const report = await cycles([table], rewound, runner, clock).runCycle();
    expect(report.tables[0]).toMatchObject({ status: 'success', rows: SOURCE_ROWS - offloaded });

    // chdb's own Iceberg reader, not Coldtier's: every source row once, plus Spark's.
    const [row] = await readIceberg<{ n: string; source: string; distinct: string }>(
      ch.client,
      warehouse,
      await catalog.loadTable(id),
      (from) =>
        `SELECT toString(count()) AS n, toString(countIf(sequence_number < ${SPARK_SEQUENCE})) AS source,
           toString(uniqExactIf(sequence_number, sequence_number < ${SPARK_SEQUENCE})) AS distinct FROM ${from}`,
    );
    expect(row).toEqual({ n: String(SOURCE_ROWS + 1), source: String(SOURCE_ROWS), distinct: String(SOURCE_ROWS) });
  });
});
