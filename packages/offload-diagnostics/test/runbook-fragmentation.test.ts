import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableConfig } from '@coldtier/offload-core';
import { startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse } from '@coldtier/test-support';
import { formatDiagnosticReport, runDiagnostics } from '../src/runbook/index.js';
import type { DiagnosticsOptions } from '../src/runbook/index.js';
import { calmOptions, createSourceTable, insertHour, startStore } from './runbook-fixtures.js';

/** Many small inserts with merges stopped: every insert stays a part. */
const NO_MERGE_LIMITS = 'SETTINGS parts_to_delay_insert = 100000, parts_to_throw_insert = 100000';

let ch: EmbeddedClickHouse;
let pgStore: Awaited<ReturnType<typeof startStore>>;
const tables: TableConfig[] = [];
let options: DiagnosticsOptions;

async function smallInserts(table: string, count: number): Promise<void> {
  await ch.client.command({ query: `SYSTEM STOP MERGES k2.${table}` });
  for (let i = 0; i < count; i++) await insertHour(ch.client, table, i % 6, 1);
}

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  tables.push(await createSourceTable(ch.client, 'bronze_trades_binance', NO_MERGE_LIMITS));
  tables.push(await createSourceTable(ch.client, 'bronze_trades_kraken', NO_MERGE_LIMITS));
  tables.push(await createSourceTable(ch.client, 'bronze_trades_coinbase'));
  await smallInserts('bronze_trades_binance', 250);
  await smallInserts('bronze_trades_kraken', 120);
  for (let h = 0; h < 6; h++) await insertHour(ch.client, 'bronze_trades_coinbase', h, 500);
  pgStore = await startStore(tables.map((t) => t.name));
  for (const table of tables) await pgStore.recordRun(table.name, { seconds: 2, rows: 40, endedAgoMs: 5 * 60_000 });
  options = calmOptions(ch.client, pgStore.store, tables);
});

afterAll(async () => {
  await pgStore?.close();
  await ch?.close();
});

describe('runbook diagnostics of a fragmented table', () => {
  it('counts active parts per source table', async () => {
    const report = await runDiagnostics(options);
    const parts = new Map(report.steps.parts.data.map((p) => [p.table, p]));
    expect(parts.get('bronze_trades_binance')).toMatchObject({ activeParts: 250, status: 'critical', rows: 250 });
    expect(parts.get('bronze_trades_kraken')).toMatchObject({ activeParts: 120, status: 'warning' });
    expect(parts.get('bronze_trades_coinbase')!.status).toBe('ok');
    expect(report.steps.parts.status).toBe('critical');
  });

  it('classifies more than 200 parts as critical fragmentation with the OPTIMIZE action for the real table', async () => {
    const report = await runDiagnostics(options);
    const binance = report.findings.filter((f) => f.table === 'bronze_trades_binance');
    expect(binance.map((f) => [f.scenario, f.severity])).toEqual([['fragmentation', 'critical']]);
    expect(binance[0]!.evidence).toEqual([expect.objectContaining({ threshold: 'partsCount', value: 250, bound: 200 })]);
    expect(binance[0]!.message).toMatch(/k2\.bronze_trades_binance is fragmented: .*250 parts.*200 parts/);
    expect(binance[0]!.actions[0]).toContain('OPTIMIZE TABLE `k2`.`bronze_trades_binance` FINAL');
  });

  it('classifies more than 100 parts as a fragmentation warning, and leaves the merged table alone', async () => {
    const report = await runDiagnostics(options);
    const kraken = report.findings.filter((f) => f.table === 'bronze_trades_kraken');
    expect(kraken.map((f) => [f.scenario, f.severity])).toEqual([['fragmentation', 'warning']]);
    expect(report.findings.filter((f) => f.table === 'bronze_trades_coinbase')).toEqual([]);
    expect(report.verdict).toMatchObject({ status: 'critical', scenarios: ['fragmentation'] });
  });

  it('reads as a terminal report: verdict first, then each finding with its actions', async () => {
    const text = formatDiagnosticReport(await runDiagnostics(options)).split('\n');
    expect(text[0]).toMatch(/over the last \d+ h: CRITICAL \(fragmentation\)$/);
    const finding = text.findIndex((l) => l.includes('[critical] fragmentation bronze_trades_binance'));
    expect(finding).toBeGreaterThan(0);
    expect(text[finding + 1]).toMatch(/^ +-> .*OPTIMIZE TABLE `k2`\.`bronze_trades_binance` FINAL/);
  });

  it('the recommended OPTIMIZE merges the parts, after which the table is healthy', async () => {
    const before = await runDiagnostics(options);
    const action = before.findings.find((f) => f.table === 'bronze_trades_binance')!.actions[0]!;
    const statement = /OPTIMIZE TABLE \S+ FINAL/.exec(action)![0];
    await ch.client.command({ query: 'SYSTEM START MERGES k2.bronze_trades_binance' });
    await ch.client.command({ query: statement });

    const after = await runDiagnostics(options);
    const binance = after.steps.parts.data.find((p) => p.table === 'bronze_trades_binance')!;
    expect(binance.activeParts).toBeLessThanOrEqual(6);
    expect(binance.status).toBe('ok');
    expect(after.findings.filter((f) => f.table === 'bronze_trades_binance')).toEqual([]);
  });
});
