import type { ClickHouseClient } from '@clickhouse/client';
import {
  createTempDir,
  startClickHouseServer,
  startEmbeddedClickHouse,
  type ClickHouseTestServer,
  type EmbeddedClickHouse,
  type TempDir,
} from '@coldtier/test-support';
import {
  BoundaryViews,
  CycleOrchestrator,
  EmbeddedIcebergRunner,
  FilesystemCatalog,
  ManualClock,
  OffloadEvents,
  bronzeTableDdl,
  insertTrades,
  parseConfig,
  silentLogger,
} from '@coldtier/offload-core';
import { InMemoryWatermarkStore } from '@coldtier/offload-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoundaryUpkeep } from '../src/runtime/boundary-upkeep.js';

let embedded: EmbeddedClickHouse;
let server: ClickHouseTestServer;
let temp: TempDir;
const cwd = process.cwd();

const config = parseConfig({
  lateDataBufferMinutes: 5,
  retry: { retries: 0 },
  tables: [
    {
      source: 'k2.bronze_trades_binance',
      target: 'cold.bronze_trades_binance',
      layer: 'bronze',
      timestampColumn: 'exchange_timestamp',
      sequenceColumn: 'sequence_number',
      final: true,
    },
  ],
});
const table = config.tables[0]!;
const T0 = new Date('2026-11-30T00:00:00Z');
const MINUTE = 60_000;

beforeAll(async () => {
  temp = await createTempDir('coldtier-view-');
  // Both engines read table functions relative to their working directory (chdb's user_files_path):
  // this process's for the embedded one, inherited by the server process at its start.
  process.chdir(temp.path);
  embedded = await startEmbeddedClickHouse();
  server = await startClickHouseServer();
});
afterAll(async () => {
  process.chdir(cwd);
  await server?.stop();
  await embedded?.close();
  await temp?.remove();
});

interface Totals {
  readonly n: string;
  readonly seq: string;
  readonly price: string;
  readonly side: string;
  readonly ts: string;
}

async function totals(client: ClickHouseClient, from: string): Promise<Totals> {
  const result = await client.query({
    query: `SELECT toString(count()) AS n, toString(sum(sequence_number)) AS seq, toString(sum(price)) AS price,
      toString(countIf(side = 'sell')) AS side, toString(sum(toUnixTimestamp64Milli(exchange_timestamp))) AS ts FROM ${from}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<Totals>();
  return row!;
}

/**
 * Offloads in six cycles while rows keep arriving, sampling the view and the
 * source between every few inserts, during and between commits.
 */
async function offloadWhileSampling(client: ClickHouseClient, exportMode: 'server-side' | 'stream', warehouse: string) {
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS k2' });
  // The embedded default's bronze table, without its 7-day TTL (the timestamps here are fixed).
  await client.command({ query: bronzeTableDdl('k2', 'bronze_trades_binance', { ttlDays: null }) });
  const clock = new ManualClock(T0);
  const catalog = new FilesystemCatalog({ warehouse: `${temp.path}/${warehouse}` });
  const store = new InMemoryWatermarkStore({ clock });
  const events = new OffloadEvents();
  const orchestrator = new CycleOrchestrator({
    tables: config.tables,
    store,
    runner: new EmbeddedIcebergRunner({ clickhouse: client, catalog, exportMode }),
    clock,
    events,
    concurrency: 1,
    retry: config.retry,
    lateDataBufferMinutes: config.lateDataBufferMinutes,
    leaseOwner: 'test',
  });
  const views = new BoundaryViews({ client, catalog, pathBase: temp.path });
  // Created before the first commit: every row is hot; the upkeep moves the boundary after each commit.
  await views.apply(table);
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
  const upkeep = startBoundaryUpkeep({ events, tables: config.tables, guard: null, views, logger });

  let sequence = 1n;
  let insertedUntil = T0.getTime() - 60 * MINUTE;
  const insert = async () => {
    const from = new Date(insertedUntil);
    insertedUntil += MINUTE;
    await insertTrades(client, 'k2', 'bronze_trades_binance', { exchange: 'binance', firstSequence: sequence, count: 50, from, to: new Date(insertedUntil) });
    sequence += 50n;
  };
  for (let i = 0; i < 30; i++) await insert();

  let samples = 0;
  let commits = 0;
  for (let cycle = 0; cycle < 6; cycle++) {
    clock.advance(10 * MINUTE);
    let done = false;
    const running = orchestrator.runCycle().then((report) => {
      done = true;
      if (report.tables[0]?.status === 'success' && report.totalRows > 0) commits++;
    });
    for (let i = 0; i < 20 || !done; i++) {
      if (i % 4 === 0) await insert();
      const view = await totals(client, 'k2.bronze_trades_binance_all');
      const source = await totals(client, 'k2.bronze_trades_binance FINAL');
      expect(view, `sample ${samples}`).toEqual(source);
      samples++;
    }
    await running;
  }
  await upkeep.stop();
  expect(warnings).toEqual([]);

  // The offloaded rows really come from Iceberg: drop them from the hot table (as a TTL would) and the view still has them.
  const before = await totals(client, 'k2.bronze_trades_binance FINAL');
  const watermark = (await store.get(table.name))!.cursor;
  await client.command({
    query: `ALTER TABLE k2.bronze_trades_binance DELETE WHERE toUnixTimestamp64Micro(exchange_timestamp) <= ${watermark.timestampMicros} SETTINGS mutations_sync = 1`,
  });
  const hot = await totals(client, 'k2.bronze_trades_binance FINAL');
  const after = await totals(client, 'k2.bronze_trades_binance_all');
  return { samples, commits, rows: Number(before.n), hot: Number(hot.n), before, after };
}

describe('the view over both tiers equals the source at every sample while cycles commit and rows keep arriving', () => {
  it.each([
    ['on the embedded default (chdb in process, server-side export)', () => embedded.client, 'server-side', 'warehouse-embedded'],
    ['against the ClickHouse HTTP test server (stream export)', () => server.client(), 'stream', 'warehouse-http'],
  ] as const)('%s', { timeout: 300_000 }, async (label, client, exportMode, warehouse) => {
    const run = await offloadWhileSampling(client(), exportMode, warehouse);
    expect(run.samples).toBeGreaterThanOrEqual(100);
    expect(run.commits).toBeGreaterThanOrEqual(5);
    expect(run.hot).toBeLessThan(run.rows / 2);
    expect(run.after).toEqual(run.before);
    console.log(`view over both tiers ${label}: ${run.samples} samples equal to the source across ${run.commits} commits; ${run.rows} rows, ${run.hot} still hot`);
  });
});
