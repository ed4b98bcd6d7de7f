import { ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { createTempDir, startClickHouseServer, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { ClickHouseFault, ClickHouseTestServer, EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';
import { bronzeDdl, bronzeInsert, cycles, readIceberg, tableConfig } from './embedded-helpers.js';

const ROWS = 400;

let server: ClickHouseTestServer;
let source: ClickHouseClient;
let reader: EmbeddedClickHouse;
let temp: TempDir;
let catalog: FilesystemCatalog;

beforeAll(async () => {
  [server, reader, temp] = await Promise.all([startClickHouseServer({ password: 'pw' }), startEmbeddedClickHouse(), createTempDir()]);
  // A short request timeout: a silent server fails the attempt long before the table's budget.
  source = server.client({ request_timeout: 2_000, log: { level: ClickHouseLogLevel.OFF } });
  catalog = new FilesystemCatalog({ warehouse: temp.path });
  await source.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await server?.stop();
  await reader?.close();
  await temp?.remove();
});

async function sourceTable(name: string): Promise<void> {
  await source.command({ query: bronzeDdl(`k2.${name}`) });
  await source.command({ query: bronzeInsert(`k2.${name}`, 0, ROWS) });
}

/** Rows and distinct sequence numbers in the Iceberg table, through chdb's own Iceberg reader. */
async function icebergRows(name: string): Promise<{ n: string; u: string }> {
  const table = await catalog.loadTable({ namespace: ['cold'], name });
  const [row] = await readIceberg<{ n: string; u: string }>(reader.client, temp.path, table, (from) =>
    `SELECT toString(count()) AS n, toString(uniqExact(sequence_number)) AS u FROM ${from}`,
  );
  return row!;
}

/** A runner whose first attempt meets `fault` once the window is planned; later attempts find the server well. */
function faultyRunner(fault: ClickHouseFault): EmbeddedIcebergRunner {
  let injected = false;
  return new EmbeddedIcebergRunner({
    clickhouse: source,
    catalog,
    exportMode: 'stream',
    onStage: async (stage) => {
      if (stage !== 'planned' || injected) return;
      injected = true;
      await server.injectFault(fault);
    },
  });
}

describe('EmbeddedIcebergRunner over HTTP (stream export)', () => {
  it('offloads a window through a ClickHouse server exactly once', async () => {
    await sourceTable('over_http');
    const store = new InMemoryWatermarkStore();
    const runner = new EmbeddedIcebergRunner({ clickhouse: source, catalog, exportMode: 'stream', targetFileSizeBytes: 8 * 1024 });
    const report = await cycles([tableConfig({ name: 'over_http' })], store, runner, new ManualClock(new Date('2024-01-05T00:00:00Z'))).runCycle();
    expect(report.tables[0]).toMatchObject({ status: 'success', rows: ROWS });
    expect(await icebergRows('over_http')).toEqual({ n: String(ROWS), u: String(ROWS) });
  });

  for (const [fault, errorType] of [
    ['stall', 'timeout'],
    ['drop-mid-stream', 'connection'],
  ] as const) {
    it(`classifies a server that does "${fault}" mid-window as ${errorType}, leaves the watermark, and the next cycle offloads it once`, async () => {
      const name = `fault_${fault.replace(/-/g, '_')}`;
      await sourceTable(name);
      const store = new InMemoryWatermarkStore();
      const runner = faultyRunner(fault);
      const clock = new ManualClock(new Date('2024-01-05T00:00:00Z'));
      try {
        const failed = await cycles([tableConfig({ name })], store, runner, clock).runCycle();
        expect(failed.tables[0]).toMatchObject({ status: 'failed', errorType, attempts: 1 });
        expect((await store.get(name))!.cursor).toEqual(INITIAL_CURSOR);
      } finally {
        await server.injectFault(null);
      }
      const next = await cycles([tableConfig({ name })], store, runner, clock).runCycle();
      expect(next.tables[0]).toMatchObject({ status: 'success', rows: ROWS });
      expect(await icebergRows(name)).toEqual({ n: String(ROWS), u: String(ROWS) });
    });
  }
});
