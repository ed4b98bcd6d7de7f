import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';
import { startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse } from '@coldtier/test-support';
import { runDiagnostics } from '../src/runbook/index.js';
import { NOW, calmOptions, createSourceTable, fastNetwork, insertHour, quickCycles, quietHost, startStore } from './runbook-fixtures.js';

let ch: EmbeddedClickHouse;
let pgStore: Awaited<ReturnType<typeof startStore>>;
const tables: TableConfig[] = [];

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  for (const name of ['bronze_trades_binance', 'bronze_trades_kraken']) {
    tables.push(await createSourceTable(ch.client, name));
    for (let h = 0; h < 6; h++) await insertHour(ch.client, name, h, 1_000);
  }
  pgStore = await startStore(tables.map((t) => t.name));
  for (const table of tables) {
    for (const endedAgoMin of [35, 20, 5]) {
      await pgStore.recordRun(table.name, { seconds: 3, rows: 250, endedAgoMs: endedAgoMin * 60_000 });
    }
  }
});

afterAll(async () => {
  await pgStore?.close();
  await ch?.close();
});

describe('runbook diagnostics of a healthy setup', () => {
  it('measures every step and finds nothing wrong', async () => {
    const report = await runDiagnostics(calmOptions(ch.client, pgStore.store, tables));

    expect(report.verdict.status).toBe('healthy');
    expect(report.findings).toEqual([]);
    const { steps } = report;
    expect(steps.cycleDurations).toMatchObject({ status: 'ok', data: { cycles: 10, latestSeconds: 12 } });
    expect(steps.tableDurations.status).toBe('ok');
    expect(steps.tableDurations.data.map((d) => [d.table, d.runs, d.latestSeconds, d.latestRows])).toEqual([
      ['bronze_trades_binance', 3, 3, 250],
      ['bronze_trades_kraken', 3, 3, 250],
    ]);
    expect(steps.volume.status).toBe('ok');
    for (const v of steps.volume.data) {
      expect(v.hours.map((h) => h.rows)).toEqual([1_000, 1_000, 1_000, 1_000, 1_000, 1_000]);
      expect(v.ratio).toBe(1);
    }
    expect(steps.parts.status).toBe('ok');
    expect(steps.parts.data.map((p) => p.activeParts).every((n) => n > 0 && n <= 6)).toBe(true);
    expect(steps.watermarks.status).toBe('ok');
    expect(steps.watermarks.data.map((w) => w.lagMinutes)).toEqual([5, 5]);
    expect(steps.resources.status).toBe('ok');
    expect(steps.resources.data.clickhouseMemoryBytes).toBeGreaterThan(0);
    expect(steps.network).toMatchObject({ status: 'ok', data: { medianMs: 0.4, lossPercent: 0 } });
  });

  it('reports the missing query log as unknown, with the reason, without failing the verdict', async () => {
    const report = await runDiagnostics({
      clickhouse: ch.client, store: pgStore.store, tables, clock: new ManualClock(NOW),
      cycleHistory: quickCycles(), host: quietHost, network: fastNetwork,
    });
    expect(report.steps.queries.status).toBe('unknown');
    expect(report.steps.queries.reason).toMatch(/system\.query_log/);
    // ClickHouse quotes the failing statement; the operator gets the error without our SQL.
    expect(report.steps.queries.reason).not.toMatch(/SELECT|fromUnixTimestamp|event_date/);
    expect(report.steps.queries.data.logged).toBeNull();
    expect(report.steps.queries.data.running).not.toBeNull();
    expect(report.verdict).toEqual({ status: 'healthy', scenarios: [], unknownSteps: ['queries'] });
  });

  it('with no cycle in the store\'s history, says step 1 could not be measured instead of guessing', async () => {
    const report = await runDiagnostics({
      clickhouse: ch.client, store: pgStore.store, tables, clock: new ManualClock(NOW), host: quietHost, network: fastNetwork,
    });
    expect(report.steps.cycleDurations.status).toBe('unknown');
    expect(report.steps.cycleDurations.reason).toBe('no cycle finished in the last 6 h');
    expect(report.verdict.unknownSteps).toContain('cycleDurations');
  });

  it('on the embedded engine, reports network and the query log as not available, without a finding or a warning', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (message: string) => warnings.push(message), error: () => {} };
    const report = await runDiagnostics({
      clickhouse: ch.client, store: pgStore.store, tables, clock: new ManualClock(NOW), cycleHistory: quickCycles(), host: quietHost, engine: 'embedded', logger,
    });
    expect(report.steps.network).toEqual({
      status: 'unknown',
      reason: 'network: not available on the embedded engine (ClickHouse runs in this process; there is no network to measure)',
      evidence: [],
      data: null,
    });
    expect(report.steps.queries.reason).toBe('finished queries: not available on the embedded engine (it keeps no system.query_log)');
    expect(report.steps.queries.data.running).not.toBeNull();
    expect(report.findings.filter((f) => f.scenario === 'network')).toEqual([]);
    expect(report.verdict).toEqual({ status: 'healthy', scenarios: [], unknownSteps: ['network', 'queries'] });
    expect(warnings).toEqual([]);
  });

  it('reads cycle durations from the store\'s cycle history: the last ones within the window, newest first', async () => {
    const cycle = (id: string, minutesAgo: number, durationSeconds: number) => {
      const startedAt = new Date(NOW.getTime() - minutesAgo * 60_000);
      return { cycleId: id, status: 'success' as const, startedAt, finishedAt: new Date(startedAt.getTime() + durationSeconds * 1000), durationSeconds, totalRows: 500, tablesSucceeded: 2, tablesFailed: 0, tablesSkipped: 0 };
    };
    for (const c of [cycle('old', 7 * 60, 900), cycle('c1', 45, 16), cycle('c2', 30, 14), cycle('c3', 15, 12)]) await pgStore.store.recordCycle(c);
    const report = await runDiagnostics({ clickhouse: ch.client, store: pgStore.store, tables, clock: new ManualClock(NOW), host: quietHost, network: fastNetwork });
    expect(report.steps.cycleDurations).toMatchObject({ status: 'ok', reason: null, data: { cycles: 3, latestSeconds: 12, longestSeconds: 16, averageSeconds: 14 } });
  });
});
