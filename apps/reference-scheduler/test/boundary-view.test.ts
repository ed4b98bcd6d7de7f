import { createTempDir, startEmbeddedClickHouse, type EmbeddedClickHouse, type TempDir } from '@coldtier/test-support';
import {
  BoundaryViews,
  CycleOrchestrator,
  EmbeddedIcebergRunner,
  FilesystemCatalog,
  ManualClock,
  OffloadEvents,
  silentLogger,
  bronzeTableDdl,
  insertTrades,
  parseConfig,
} from '@coldtier/offload-core';
import { InMemoryWatermarkStore } from '@coldtier/offload-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoundaryUpkeep } from '../src/runtime/boundary-upkeep.js';

let ch: EmbeddedClickHouse;
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
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir('coldtier-view-');
  // chdb reads table functions relative to its working directory; the view is written relative to it.
  process.chdir(temp.path);
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  // The embedded default's bronze table, without its 7-day TTL (the timestamps here are fixed).
  await ch.client.command({ query: bronzeTableDdl('k2', 'bronze_trades_binance', { ttlDays: null }) });
});
afterAll(async () => {
  process.chdir(cwd);
  await ch?.close();
  await temp?.remove();
});

interface Totals {
  readonly n: string;
  readonly seq: string;
  readonly price: string;
  readonly side: string;
  readonly ts: string;
}

async function totals(from: string): Promise<Totals> {
  const result = await ch.client.query({
    query: `SELECT toString(count()) AS n, toString(sum(sequence_number)) AS seq, toString(sum(price)) AS price,
      toString(countIf(side = 'sell')) AS side, toString(sum(toUnixTimestamp64Milli(exchange_timestamp))) AS ts FROM ${from}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<Totals>();
  return row!;
}

describe('the view over both tiers', () => {
  it('equals the source at every sample while cycles commit and rows keep arriving', async () => {
    const clock = new ManualClock(T0);
    const catalog = new FilesystemCatalog({ warehouse: `${temp.path}/warehouse` });
    const store = new InMemoryWatermarkStore({ clock });
    const events = new OffloadEvents();
    const orchestrator = new CycleOrchestrator({
      tables: config.tables,
      store,
      runner: new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-file' }),
      clock,
      events,
      concurrency: 1,
      retry: config.retry,
      lateDataBufferMinutes: config.lateDataBufferMinutes,
      leaseOwner: 'test',
    });
    const views = new BoundaryViews({ client: ch.client, catalog, pathBase: temp.path });
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
      await insertTrades(ch.client, 'k2', 'bronze_trades_binance', { exchange: 'binance', firstSequence: sequence, count: 50, from, to: new Date(insertedUntil) });
      sequence += 50n;
    };
    for (let i = 0; i < 30; i++) await insert();

    let samples = 0;
    let committed = 0;
    for (let cycle = 0; cycle < 6; cycle++) {
      clock.advance(10 * MINUTE);
      const running = orchestrator.runCycle().then((report) => {
        if (report.tables[0]?.status === 'success' && report.totalRows > 0) committed++;
      });
      let done = false;
      void running.finally(() => (done = true));
      // Sample while the cycle writes, commits and the view moves; rows keep arriving between samples.
      for (let i = 0; i < 20 || !done; i++) {
        if (i % 4 === 0) await insert();
        const [view, source] = [await totals('k2.bronze_trades_binance_all'), await totals('k2.bronze_trades_binance FINAL')];
        expect(view, `sample ${samples}`).toEqual(source);
        samples++;
      }
      await running;
    }
    await upkeep.stop();

    expect(samples).toBeGreaterThanOrEqual(100);
    expect(committed).toBeGreaterThanOrEqual(5);
    expect(warnings).toEqual([]);
    // The offloaded rows really come from Iceberg: drop them from the hot table (as a TTL would) and the view still has them.
    const before = await totals('k2.bronze_trades_binance FINAL');
    const watermark = (await store.get(table.name))!.cursor;
    await ch.client.command({
      query: `ALTER TABLE k2.bronze_trades_binance DELETE WHERE toUnixTimestamp64Micro(exchange_timestamp) <= ${watermark.timestampMicros} SETTINGS mutations_sync = 1`,
    });
    const hot = await totals('k2.bronze_trades_binance FINAL');
    expect(Number(hot.n)).toBeLessThan(Number(before.n) / 2);
    expect(await totals('k2.bronze_trades_binance_all')).toEqual(before);
    console.log(`view over both tiers: ${samples} samples equal to the source across ${committed} commits; ${before.n} rows, ${hot.n} still hot`);
  });
});
