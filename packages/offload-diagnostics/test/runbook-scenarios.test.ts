import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableConfig } from '@coldtier/offload-core';
import { startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse } from '@coldtier/test-support';
import { runDiagnostics } from '../src/runbook/index.js';
import type { DiagnosticReport, DiagnosticsOptions } from '../src/runbook/index.js';
import { HOUR_MS, NOW, calmOptions, createSourceTable, insertHour, quickCycles, startStore } from './runbook-fixtures.js';

let ch: EmbeddedClickHouse;
let pgStore: Awaited<ReturnType<typeof startStore>>;
const tables: TableConfig[] = [];
let base: DiagnosticsOptions;

/**
 * chdb keeps no system.query_log, so the slow-query step reads a table with
 * the same columns, the way a cluster points it at a Distributed table.
 */
async function createQueryLog(): Promise<void> {
  await ch.client.command({ query: 'CREATE DATABASE logs' });
  await ch.client.command({
    query: `CREATE TABLE logs.query_log (
      type Enum8('QueryStart' = 1, 'QueryFinish' = 2, 'ExceptionBeforeStart' = 3, 'ExceptionWhileProcessing' = 4),
      event_date Date, event_time DateTime, query_start_time DateTime, query_duration_ms UInt64, read_rows UInt64,
      query String, tables Array(LowCardinality(String)), log_comment String
    ) ENGINE = MergeTree ORDER BY event_time`,
  });
  const row = (type: string, agoMs: number, ms: number, table: string, comment = '') => {
    const at = new Date(NOW.getTime() - agoMs).toISOString().slice(0, 19).replace('T', ' ');
    return `('${type}', toDate('${at}'), '${at}', '${at}', ${ms}, 1000, 'SELECT * FROM ${table} WHERE x', ['${table}'], '${comment}')`;
  };
  const rows = [
    row('QueryFinish', HOUR_MS, 42_000, 'k2.bronze_trades_binance'),
    row('QueryFinish', 2 * HOUR_MS, 800, 'k2.bronze_trades_binance'),
    row('QueryFinish', HOUR_MS, 1_200, 'k2.bronze_trades_kraken'),
    // None of these may count: the diagnostics' own query, a start event, one before the window, another table.
    row('QueryFinish', HOUR_MS, 60_000, 'k2.bronze_trades_kraken', 'coldtier-diagnostics'),
    row('QueryStart', HOUR_MS, 90_000, 'k2.bronze_trades_kraken'),
    row('QueryFinish', 8 * HOUR_MS, 70_000, 'k2.bronze_trades_kraken'),
    row('QueryFinish', HOUR_MS, 50_000, 'k2.other_table'),
  ];
  await ch.client.command({ query: `INSERT INTO logs.query_log VALUES ${rows.join(', ')}` });
}

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  for (const name of ['bronze_trades_binance', 'bronze_trades_kraken']) {
    tables.push(await createSourceTable(ch.client, name));
    for (let h = 0; h < 6; h++) await insertHour(ch.client, name, h, 500);
  }
  await createQueryLog();
  pgStore = await startStore(tables.map((t) => t.name));
  await pgStore.recordRun('bronze_trades_binance', { seconds: 3, rows: 120, endedAgoMs: 5 * 60_000 });
  await pgStore.recordRun('bronze_trades_kraken', { seconds: 3, rows: 120, endedAgoMs: 45 * 60_000 });
  base = calmOptions(ch.client, pgStore.store, tables);
});

afterAll(async () => {
  await pgStore?.close();
  await ch?.close();
});

const only = (report: DiagnosticReport, scenario: string) => report.findings.filter((f) => f.scenario === scenario);

describe('runbook diagnostics of slow queries (scenario 4)', () => {
  it('grades the slowest finished query per source table and ignores its own, unfinished, old and foreign ones', async () => {
    const report = await runDiagnostics({ ...base, queryLog: 'logs.query_log' });
    expect(report.steps.queries.data.logged).toEqual([
      { table: 'bronze_trades_binance', status: 'critical', queries: 2, maxSeconds: 42, slowQueries: 1 },
      { table: 'bronze_trades_kraken', status: 'ok', queries: 1, maxSeconds: 1.2, slowQueries: 0 },
    ]);
    expect(report.steps.queries.data.slowest.map((q) => [q.table, q.seconds])).toEqual([
      ['bronze_trades_binance', 42],
      ['bronze_trades_kraken', 1.2],
      ['bronze_trades_binance', 0.8],
    ]);
    const [slow, ...rest] = only(report, 'slow_queries');
    expect(rest).toEqual([]);
    expect(slow).toMatchObject({ table: 'bronze_trades_binance', severity: 'critical' });
    expect(slow!.evidence).toEqual([expect.objectContaining({ threshold: 'queryDuration', value: 42, bound: 30 })]);
    expect(slow!.message).toMatch(/42 ?s.*30 ?s/);
    expect(slow!.actions.join('\n')).toContain("has(tables, 'k2.bronze_trades_binance')");
    expect(slow!.actions.join('\n')).toContain('EXPLAIN indexes = 1 SELECT * FROM `k2`.`bronze_trades_binance`');
  });
});

describe('runbook diagnostics of resources and network (scenarios 2 and 3)', () => {
  it('classifies a loaded host as resource exhaustion, citing the measured share and the bound', async () => {
    const report = await runDiagnostics({
      ...base,
      host: { sample: async () => ({ loadAverage1m: 7.6, cpuCount: 4, freeMemoryBytes: 2 ** 30, totalMemoryBytes: 16 * 2 ** 30, processRssBytes: 2 ** 30 }) },
    });
    const [resources] = only(report, 'resource_exhaustion');
    expect(resources!.evidence.map((e) => [e.threshold, e.value, e.bound])).toEqual([
      ['hostCpu', 190, 80],
      ['hostMemory', 93.75, 80],
    ]);
    expect(resources!.message).toMatch(/190 ?%.*80 ?%/);
    expect(resources!.actions[0]).toMatch(/ps aux --sort=-%mem/);
  });

  it('classifies slow or lossy round trips to ClickHouse as a network issue', async () => {
    const report = await runDiagnostics({
      ...base,
      network: { measure: async () => ({ attempts: 6, failures: 1, latenciesMs: [6, 7, 9, 12, 14] }) },
    });
    const [network] = only(report, 'network');
    expect(network!.evidence.map((e) => [e.threshold, e.value, e.bound])).toEqual([
      ['networkLatency', 9, 5],
      ['packetLoss', (1 / 6) * 100, 0],
    ]);
    expect(report.steps.network.data).toMatchObject({ medianMs: 9, failures: 1 });
  });
});

describe('runbook diagnostics of the symptoms', () => {
  it('reports a table not offloaded for 45 minutes as critical lag', async () => {
    const report = await runDiagnostics(base);
    const [lag] = only(report, 'watermark_lag');
    expect(lag).toMatchObject({ table: 'bronze_trades_kraken', severity: 'critical' });
    expect(lag!.evidence).toEqual([expect.objectContaining({ threshold: 'lag', value: 45, bound: 30 })]);
    expect(report.steps.watermarks.data.find((w) => w.table === 'bronze_trades_binance')!.status).toBe('ok');
  });

  it('reports a slow cycle with the causes found, or with what could not be measured', async () => {
    const slowCycles = [{ startedAt: new Date(NOW.getTime() - 15 * 60_000), durationSeconds: 700 }, ...quickCycles().slice(1)];
    const withCause = await runDiagnostics({ ...base, cycleHistory: slowCycles, queryLog: 'logs.query_log' });
    const [slow] = only(withCause, 'slow_cycles');
    expect(slow!.severity).toBe('critical');
    expect(slow!.evidence[0]).toMatchObject({ threshold: 'cycleDuration', value: 700, bound: 600 });
    expect(slow!.actions).toContain('Resolve the findings above first: slow_queries');

    const noCause = await runDiagnostics({ ...base, cycleHistory: slowCycles });
    const [unexplained] = only(noCause, 'slow_cycles');
    expect(unexplained!.actions).toContain('No cause found by the measured steps; check what could not be measured: queries');
    expect(noCause.verdict.scenarios).toEqual(['slow_cycles', 'watermark_lag']);
  });
});
