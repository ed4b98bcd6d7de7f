import type { ClickHouseClient } from '@clickhouse/client';
import { ManualClock, PostgresWatermarkStore, microsFromDate, migrate, parseConfig } from '@coldtier/offload-core';
import type { TableConfig, WatermarkStore } from '@coldtier/offload-core';
import { createTestDatabase, openTestPool } from '@coldtier/test-support';
import type { DiagnosticsOptions, HostProbe, NetworkProbe } from '../src/runbook/index.js';

/** Every file diagnoses at the same instant, mid-hour so hour windows and clock hours differ. */
export const NOW = new Date('2026-02-12T12:30:00.000Z');
export const HOUR_MS = 3_600_000;

/** A bronze-like source table in ClickHouse with its offload config. */
export async function createSourceTable(client: ClickHouseClient, name: string, settings = ''): Promise<TableConfig> {
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS k2' });
  await client.command({
    query: `CREATE TABLE k2.${name} (exchange_timestamp DateTime64(3), sequence_number UInt64, price Float64)
      ENGINE = MergeTree ORDER BY (exchange_timestamp, sequence_number) ${settings}`,
  });
  return tableConfig(name);
}

export function tableConfig(name: string): TableConfig {
  const config = parseConfig({
    tables: [{ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'exchange_timestamp', sequenceColumn: 'sequence_number' }],
  });
  return config.tables[0]!;
}

/** Inserts `rows` rows spread evenly over the hour ending `hoursAgo` hours before `NOW`. */
export async function insertHour(client: ClickHouseClient, name: string, hoursAgo: number, rows: number): Promise<void> {
  await client.command({
    query: `INSERT INTO k2.${name}
      SELECT fromUnixTimestamp64Micro(toInt64({end:Int64}) - toInt64(intDiv(number * 3600000000, {rows:UInt64}))), number, 1.0
      FROM numbers({rows:UInt64})`,
    query_params: { end: (microsFromDate(NOW) - BigInt(hoursAgo) * 3_600_000_000n).toString(), rows },
  });
}

/** A real PostgreSQL watermark store on its own database, with a clock the test moves. */
export async function startStore(tables: readonly string[]) {
  const database = await createTestDatabase();
  const pool = openTestPool({ connectionString: database.url, max: 2 });
  await migrate(pool);
  const clock = new ManualClock(NOW);
  const store = new PostgresWatermarkStore({ pool, clock });
  await store.ensureTables(tables);
  let runs = 0;
  return {
    store,
    clock,
    /** Records one successful run of `table` that started `endedAgoMs + seconds` before NOW and took `seconds`. */
    async recordRun(table: string, run: { seconds: number; rows: number; endedAgoMs: number }): Promise<void> {
      const start = NOW.getTime() - run.endedAgoMs - run.seconds * 1000;
      clock.set(start);
      const lease = await store.acquireLease(table, 'test', 3_600_000);
      const { cursor } = (await store.get(table))!;
      const window = { after: cursor, untilMicros: microsFromDate(new Date(start)) };
      const runId = `run-${++runs}`;
      await store.startRun(lease, { runId, window });
      clock.set(start + run.seconds * 1000);
      const next = { timestampMicros: window.untilMicros, sequence: BigInt(runs), tieBreakers: [] };
      await store.completeRun(lease, { runId, window, cursor: run.rows > 0 ? next : null, rows: run.rows, durationSeconds: run.seconds, snapshotId: null });
      await store.releaseLease(lease);
      clock.set(NOW);
    },
    async close(): Promise<void> {
      await pool.end();
      await database.drop();
    },
  };
}

/** A quiet host: deterministic, so no test depends on this machine's load. */
export const quietHost: HostProbe = {
  sample: async () => ({ loadAverage1m: 0.4, cpuCount: 4, freeMemoryBytes: 8 * 2 ** 30, totalMemoryBytes: 16 * 2 ** 30, processRssBytes: 200 * 2 ** 20 }),
};

/** Sub-millisecond round trips without loss, as on one host. */
export const fastNetwork: NetworkProbe = {
  measure: async () => ({ attempts: 5, failures: 0, latenciesMs: [0.3, 0.4, 0.4, 0.5, 0.6] }),
};

/** Ten quick cycles ending before NOW. */
export function quickCycles(seconds = 12) {
  return Array.from({ length: 10 }, (_, i) => ({ startedAt: new Date(NOW.getTime() - (i + 1) * 15 * 60_000), durationSeconds: seconds }));
}

/**
 * Diagnostics options on a quiet host with a fast network and quick cycles,
 * at `NOW`: only the data a test seeds can raise a finding.
 */
export function calmOptions(clickhouse: ClickHouseClient, store: WatermarkStore, tables: readonly TableConfig[]): DiagnosticsOptions {
  return { clickhouse, store, tables, clock: new ManualClock(NOW), cycleHistory: quickCycles(), host: quietHost, network: fastNetwork };
}
