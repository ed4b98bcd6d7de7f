import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, PostgresWatermarkStore } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';
import { createTestDatabase, startEmbeddedClickHouse, openTestPool } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TestDatabase } from '@coldtier/test-support';
import { clickHousePingProbe, osHostProbe, runDiagnostics } from '../src/runbook/index.js';
import { NOW, calmOptions, createSourceTable, insertHour, startStore, tableConfig } from './runbook-fixtures.js';

let ch: EmbeddedClickHouse;
let pgStore: Awaited<ReturnType<typeof startStore>>;
let bare: TestDatabase;
let barePool: pg.Pool;
let present: TableConfig;
const missing = tableConfig('bronze_trades_missing');

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  present = await createSourceTable(ch.client, 'bronze_trades_binance');
  for (let h = 0; h < 6; h++) await insertHour(ch.client, present.name, h, 100);
  pgStore = await startStore([present.name]);
  await pgStore.recordRun(present.name, { seconds: 2, rows: 100, endedAgoMs: 5 * 60_000 });
  bare = await createTestDatabase();
  barePool = openTestPool({ connectionString: bare.url, max: 1 });
});

afterAll(async () => {
  await barePool?.end();
  await bare?.drop();
  await pgStore?.close();
  await ch?.close();
});

describe('runbook diagnostics when probes fail', () => {
  it('reports a source table missing from ClickHouse as unknown, and still measures the others', async () => {
    const report = await runDiagnostics(calmOptions(ch.client, pgStore.store, [present, missing]));
    const volume = new Map(report.steps.volume.data.map((v) => [v.table, v]));
    expect(volume.get('bronze_trades_missing')).toMatchObject({ status: 'unknown', latestRows: null });
    expect(volume.get('bronze_trades_missing')!.reason).toMatch(/volume of k2\.bronze_trades_missing/);
    expect(volume.get('bronze_trades_binance')).toMatchObject({ status: 'ok', latestRows: 100 });
    expect(report.steps.volume.status).toBe('unknown');
    expect(report.steps.parts.reason).toBe('source tables not found in system.tables: k2.bronze_trades_missing');
    expect(report.steps.parts.data.find((p) => p.table === 'bronze_trades_binance')!.status).toBe('ok');
    expect(report.steps.watermarks.reason).toBe('no watermark row for: bronze_trades_missing');
    expect(report.verdict.status).toBe('healthy');
    expect(report.verdict.unknownSteps).toEqual(expect.arrayContaining(['volume', 'parts', 'watermarks']));
  });

  it('turns a store it cannot read and probes that throw into unknown steps with reasons, never a throw', async () => {
    // Never migrated: every read fails the way a missing grant or schema does.
    const unreadable = new PostgresWatermarkStore({ pool: barePool, clock: new ManualClock(NOW) });
    const report = await runDiagnostics({
      clickhouse: ch.client, store: unreadable, tables: [present], clock: new ManualClock(NOW),
      host: { sample: () => Promise.reject(new Error('permission denied reading /proc/meminfo')) },
      network: { measure: () => Promise.reject(new Error('EHOSTUNREACH')) },
    });
    const { steps } = report;
    expect(steps.tableDurations).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/^run history of bronze_trades_binance: .*offload_runs/) });
    expect(steps.watermarks).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/^watermark store: .*offload_watermarks/) });
    expect(steps.resources.status).toBe('unknown');
    expect(steps.resources.reason).toBe('host resources: permission denied reading /proc/meminfo');
    expect(steps.resources.data.clickhouseMemoryBytes).toBeGreaterThan(0);
    expect(steps.network).toMatchObject({ status: 'unknown', reason: 'network probe: EHOSTUNREACH', data: null });
    expect(steps.volume.status).toBe('ok');
    expect(report.verdict).toEqual({
      status: 'healthy',
      scenarios: [],
      unknownSteps: ['cycleDurations', 'tableDurations', 'resources', 'network', 'queries', 'watermarks'],
    });
  });

  it('measures this host and round trips to ClickHouse with the default probes', async () => {
    const network = await clickHousePingProbe(ch.client, 3).measure();
    expect(network.attempts).toBe(3);
    expect(network.failures).toBe(0);
    expect(network.latenciesMs).toHaveLength(3);
    const host = await osHostProbe.sample();
    expect(host.cpuCount).toBeGreaterThan(0);
    expect(host.totalMemoryBytes).toBeGreaterThan(host.freeMemoryBytes);
    expect(host.processRssBytes).toBeGreaterThan(0);
  });
});
