import { ClickHouseError } from '@clickhouse/client';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CycleOrchestrator, FilesystemCatalog, EmbeddedIcebergRunner, TtlGuard, TtlMonitor, parseConfig, silentLogger } from '../src/index.js';
import type { LogFields, TtlGuardEvent } from '../src/index.js';
import { InMemoryWatermarkStore } from '../src/testing/index.js';
import { noRetry, readIceberg } from './embedded-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;

const config = parseConfig({
  tables: ['guarded', 'unguarded'].map((name) => ({
    source: `k2.${name}`,
    target: `cold.${name}`,
    layer: 'bronze',
    timestampColumn: 'ts',
    sequenceColumn: 'seq',
    ttlGuard: name === 'guarded' ? 'stop-merges' : 'off',
  })),
});
const [guarded] = config.tables;
const bounds = { criticalSeconds: 300, resumeSeconds: 600 };

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir('coldtier-ttl-guard-');
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

async function count(table: string): Promise<number> {
  const result = await ch.client.query({ query: `SELECT toString(count()) AS n FROM k2.${table}`, format: 'JSONEachRow' });
  const [row] = await result.json<{ n: string }>();
  return Number(row!.n);
}

/** Waits (polling ClickHouse's own clock) until `unixSeconds` has passed. */
async function waitUntilPassed(unixSeconds: number): Promise<void> {
  for (;;) {
    const result = await ch.client.query({ query: `SELECT toInt64(toUnixTimestamp(now())) AS now`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
    const [row] = await result.json<{ now: number }>();
    if (row!.now > unixSeconds) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('TTL guard (ttlGuard: stop-merges)', () => {
  it('stops TTL merges before an unoffloaded row expires and starts them once the offload caught up: no row lost', async () => {
    // A one-hour TTL, TTL merges allowed every second; 200 rows expire in about twenty seconds, 100 are fresh.
    for (const name of ['guarded', 'unguarded']) {
      await ch.client.command({
        query: `CREATE TABLE k2.${name} (ts DateTime64(6, 'UTC'), seq UInt64, v Float64) ENGINE = MergeTree ORDER BY (ts, seq)
          TTL toDateTime(ts) + INTERVAL 1 HOUR SETTINGS merge_with_ttl_timeout = 1`,
      });
      await ch.client.command({ query: `INSERT INTO k2.${name} SELECT now64(6) - INTERVAL 3580 SECOND + toIntervalMillisecond(number), number, number / 2 FROM numbers(200)` });
      await ch.client.command({ query: `INSERT INTO k2.${name} SELECT now64(6) - INTERVAL 10 MINUTE, 1000 + number, number FROM numbers(100)` });
    }
    // The offload is stalled: nothing committed yet.
    const store = new InMemoryWatermarkStore();
    await store.ensureTables(config.tables.map((t) => t.name));
    const monitor = new TtlMonitor({ client: ch.client, tables: config.tables, watermarks: store });
    const events: TtlGuardEvent[] = [];
    const guard = new TtlGuard({ client: ch.client, tables: [{ table: guarded!, bounds }], onEvent: (e) => events.push(e) });

    const stalled = await monitor.probe();
    const deadline = stalled[0]!.pendingDeleteAt!;
    expect(await guard.apply(stalled)).toMatchObject([{ table: 'guarded', action: 'stop', outcome: 'done' }]);
    expect(guard.state('guarded')).toBe('stopped');
    expect(events[0]!.headroomSeconds).toBeGreaterThan(0);

    // Past the deadline, a merge applies TTL where merges are not stopped.
    await waitUntilPassed(deadline + 1);
    for (const name of ['guarded', 'unguarded']) await ch.client.command({ query: `OPTIMIZE TABLE k2.${name} FINAL` });
    expect(await count('unguarded')).toBe(100);
    expect(await count('guarded')).toBe(300);
    // Still below the critical bound (negative, in fact): no second stop.
    expect(await guard.apply(await monitor.probe())).toEqual([]);

    // The offload resumes and catches up; the guard starts TTL merges again.
    const catalog = new FilesystemCatalog({ warehouse: temp.path });
    const orchestrator = new CycleOrchestrator({
      tables: [guarded!],
      store,
      runner: new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode: 'server-side' }),
      concurrency: 1,
      retry: noRetry,
      lateDataBufferMinutes: 5,
      leaseOwner: 'test',
    });
    const report = await orchestrator.runCycle();
    expect(report.status).toBe('success');
    expect(await guard.apply(await monitor.probe())).toMatchObject([{ table: 'guarded', action: 'start', outcome: 'done', headroomSeconds: Infinity }]);
    expect(guard.state('guarded')).toBe('started');

    // Now TTL deletes the expired rows from the hot table; every row is in Iceberg.
    await ch.client.command({ query: 'OPTIMIZE TABLE k2.guarded FINAL' });
    expect(await count('guarded')).toBe(100);
    const table = await catalog.loadTable({ namespace: ['cold'], name: 'guarded' });
    const [iceberg] = await readIceberg<{ n: string; seqs: string }>(ch.client, temp.path, table, (from) => `SELECT toString(count()) AS n, toString(sum(seq)) AS seqs FROM ${from}`);
    expect(iceberg).toEqual({ n: '300', seqs: String((199 * 200) / 2 + 1000 * 100 + (99 * 100) / 2) });
    expect(events.map((e) => `${e.action}:${e.outcome}`)).toEqual(['stop:done', 'start:done']);
  });

  it('is refused with the grant to ask for when the ClickHouse user lacks it, and does not repeat the refused action', async () => {
    const lines: { message: string; fields: LogFields | undefined }[] = [];
    const denied = new ClickHouseError({
      message: 'default: Not enough privileges. To execute this query, it is necessary to have the grant SYSTEM TTL MERGES ON k2.guarded',
      code: '497',
      type: 'ACCESS_DENIED',
    });
    const client = { command: () => Promise.reject(denied) };
    const guard = new TtlGuard({
      client,
      tables: [{ table: guarded!, bounds }],
      username: 'offload',
      logger: { ...silentLogger, error: (message, fields) => lines.push({ message, fields }) },
    });
    const probe = { table: 'guarded', rules: [{ expression: 'ts + toIntervalHour(1)' }], pendingDeleteAt: Date.now() / 1000 + 60, earliestPartDeleteAt: null, probedAt: 0 };
    const [event] = await guard.apply([probe]);
    expect(event).toMatchObject({ action: 'stop', outcome: 'refused' });
    expect(event!.message).toContain('GRANT SYSTEM TTL MERGES ON k2.guarded TO offload');
    expect(lines.map((l) => l.message)).toEqual([event!.message]);
    expect(guard.state('guarded')).toBe('unknown');
    expect(await guard.apply([probe])).toEqual([]);
  });
});
