import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableConfig } from '@coldtier/offload-core';
import { startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse } from '@coldtier/test-support';
import { runDiagnostics } from '../src/runbook/index.js';
import type { DiagnosticReport } from '../src/runbook/index.js';
import { resolveThresholds } from '../src/thresholds/index.js';
import { calmOptions, createSourceTable, insertHour, startStore } from './runbook-fixtures.js';

/**
 * The runbook's bounds scaled down 1000x (5M steady / 10M spike rows per
 * hour become 5k / 10k) so a spike takes thousands of rows, not millions.
 */
const thresholds = resolveThresholds({ overrides: { rowsPerHour: { acceptable: 5_000, critical: 10_000 } } });

let ch: EmbeddedClickHouse;
let pgStore: Awaited<ReturnType<typeof startStore>>;
const tables: TableConfig[] = [];
let report: DiagnosticReport;

/** Hourly rows, oldest first: the last entry is the hour ending now. */
const VOLUMES: Record<string, number[]> = {
  // 10x the usual volume in the last hour, above the spike bound.
  bronze_trades_binance: [2_000, 2_000, 2_000, 2_000, 2_000, 20_000],
  // 3x its usual volume, below the bounds, and its runs are slow: Scenario 1 by the ratio.
  bronze_trades_kraken: [1_000, 1_000, 1_000, 1_000, 1_000, 3_000],
  // The same 3x, but its runs are fast: no finding.
  bronze_trades_coinbase: [1_000, 1_000, 1_000, 1_000, 1_000, 3_000],
  // Above the spike bound for four hours: sustained.
  bronze_trades_bybit: [2_000, 2_000, 12_000, 12_000, 12_000, 12_000],
};

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  for (const [name, hourly] of Object.entries(VOLUMES)) {
    tables.push(await createSourceTable(ch.client, name));
    for (const [i, rows] of hourly.entries()) await insertHour(ch.client, name, hourly.length - 1 - i, rows);
  }
  pgStore = await startStore(tables.map((t) => t.name));
  await pgStore.recordRun('bronze_trades_binance', { seconds: 4, rows: 5_000, endedAgoMs: 5 * 60_000 });
  await pgStore.recordRun('bronze_trades_kraken', { seconds: 200, rows: 750, endedAgoMs: 5 * 60_000 });
  await pgStore.recordRun('bronze_trades_coinbase', { seconds: 2, rows: 750, endedAgoMs: 5 * 60_000 });
  await pgStore.recordRun('bronze_trades_bybit', { seconds: 5, rows: 3_000, endedAgoMs: 5 * 60_000 });
  report = await runDiagnostics({ ...calmOptions(ch.client, pgStore.store, tables), thresholds });
});

afterAll(async () => {
  await pgStore?.close();
  await ch?.close();
});

const findingsFor = (table: string) => report.findings.filter((f) => f.table === table);

describe('runbook diagnostics of a volume spike', () => {
  it('counts rows per hour-long window ending now', () => {
    const byTable = new Map(report.steps.volume.data.map((v) => [v.table, v]));
    for (const [name, hourly] of Object.entries(VOLUMES)) {
      expect(byTable.get(name)!.hours.map((h) => h.rows)).toEqual(hourly);
    }
    expect(byTable.get('bronze_trades_binance')).toMatchObject({ latestRows: 20_000, baselineRows: 2_000, ratio: 10, hoursAboveSteadyState: 1 });
  });

  it('classifies a last hour above the spike bound as scenario 1, critical, citing value and bound', () => {
    const [spike] = findingsFor('bronze_trades_binance');
    expect(spike).toMatchObject({ scenario: 'volume_spike', severity: 'critical' });
    expect(spike!.evidence).toEqual([expect.objectContaining({ threshold: 'rowsPerHour', value: 20_000, bound: 10_000, level: 'critical' })]);
    expect(spike!.message).toContain('20,000');
    expect(spike!.message).toContain('10,000');
    expect(spike!.message).toContain('k2.bronze_trades_binance');
  });

  it('recommends the runbook actions for a temporary spike, with the real table name', () => {
    const [spike] = findingsFor('bronze_trades_binance');
    expect(spike!.actions.join('\n')).toContain('FROM `k2`.`bronze_trades_binance`');
    expect(spike!.actions).toContain('Above the steady-state volume for the last 1 hour(s): a spike of 1-2 hours needs no intervention; monitor cycle duration every 15 minutes until it subsides');
    expect(spike!.actions.some((a) => a.includes('scheduleMinutes temporarily (15 -> 20)'))).toBe(true);
  });

  it('treats a spike of three hours or more as sustained and recommends optimising for the volume', () => {
    const [spike] = findingsFor('bronze_trades_bybit');
    expect(spike).toMatchObject({ scenario: 'volume_spike', severity: 'critical' });
    expect(report.steps.volume.data.find((v) => v.table === 'bronze_trades_bybit')!.hoursAboveSteadyState).toBe(4);
    expect(spike!.actions.some((a) => a.startsWith('Sustained: above the steady-state volume for the last 4 hours'))).toBe(true);
    expect(spike!.actions).toContain(
      'If the offload query does not use an index on `exchange_timestamp`: ALTER TABLE `k2`.`bronze_trades_bybit` ADD INDEX idx_offload_ts `exchange_timestamp` TYPE minmax GRANULARITY 4; ' +
        'then ALTER TABLE `k2`.`bronze_trades_bybit` MATERIALIZE INDEX idx_offload_ts',
    );
  });

  it('classifies a 2x-normal volume as a spike only when that table runs slowly', () => {
    const kraken = findingsFor('bronze_trades_kraken');
    expect(kraken.map((f) => f.scenario)).toEqual(['volume_spike']);
    expect(kraken[0]!.evidence).toEqual([expect.objectContaining({ threshold: 'spikeRatio', value: 3, bound: 2, level: 'warning' })]);
    expect(findingsFor('bronze_trades_coinbase')).toEqual([]);
  });

  it('reports the slow table as the symptom the spike explains', () => {
    const slow = report.findings.find((f) => f.scenario === 'slow_cycles')!;
    expect(slow.evidence.every((e) => e.table === 'bronze_trades_kraken')).toBe(true);
    expect(slow.evidence.map((e) => e.threshold)).toEqual(expect.arrayContaining(['tableDuration', 'volumeTarget']));
    expect(slow.actions.join('\n')).toMatch(/Only bronze_trades_kraken slow/);
    expect(slow.actions.join('\n')).toMatch(/volume_spike/);
  });

  it('gives a verdict naming scenario 1 first', () => {
    expect(report.verdict.status).toBe('critical');
    expect(report.verdict.scenarios[0]).toBe('volume_spike');
    expect(report.findings[0]!.severity).toBe('critical');
  });
});
