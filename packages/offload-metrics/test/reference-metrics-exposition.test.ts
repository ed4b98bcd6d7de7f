import { ManualClock, OffloadEvents } from '@coldtier/offload-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CYCLE_DURATION_BUCKETS,
  DURATION_BUCKETS,
  METRIC_NAMES,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  REFERENCE_METRIC_NAMES,
  createOffloadMetrics,
  recordOffloadEvents,
  startMetricsServer,
} from '../src/index.js';
import type { MetricsServer } from '../src/index.js';
import { cycleFinished, failed, retrying, succeeded, windowFrom } from './events.js';
import { labelNameSets, parseExposition, samplesOf, valueOf } from './exposition.js';
import type { Exposition } from './exposition.js';

const start = new Date('2026-11-21T14:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const BINANCE = { table: 'bronze_trades_binance', layer: 'bronze' } as const;
const SILVER = { table: 'silver_trades', layer: 'silver' } as const;
const CYCLE = 'cycle-1';

/** One cycle: binance offloads 3,850,000 rows in 14.2 s; silver times out twice (one retry) after 700 s. */
function scriptCycle(events: OffloadEvents): void {
  const window = windowFrom(new Date('2026-11-21T13:40:00Z'), new Date('2026-11-21T13:55:00Z'));
  events.emit({ type: 'cycle_started', cycleId: CYCLE, at: start, tables: [BINANCE.table, SILVER.table] });
  events.emit({ type: 'table_started', cycleId: CYCLE, ...BINANCE, at: start, runId: 'r1', window, attempt: 1 });
  events.emit(succeeded({ cycleId: CYCLE, ...BINANCE, at: at(14.2), rows: 3_850_000, durationSeconds: 14.2, window }));
  events.emit({ type: 'table_started', cycleId: CYCLE, ...SILVER, at: at(14.2), runId: 'r2', window, attempt: 1 });
  events.emit(retrying({ cycleId: CYCLE, ...SILVER, at: at(314.2), errorType: 'timeout', attempt: 1 }));
  events.emit(failed({ cycleId: CYCLE, ...SILVER, at: at(714.2), errorType: 'timeout', attempts: 2, durationSeconds: 700 }));
  events.emit(
    cycleFinished({
      cycleId: CYCLE,
      status: 'partial',
      startedAt: start,
      finishedAt: at(714.2),
      tables: [
        { status: 'success', ...BINANCE, runId: 'r1', window, rows: 3_850_000, bytes: 0, watermark: window.after, snapshotId: '42', attempts: 1, durationSeconds: 14.2 },
        { status: 'failed', ...SILVER, runId: 'r2', window, errorType: 'timeout', message: 'timeout', attempts: 2, durationSeconds: 700 },
      ],
    }),
  );
}

async function scrape(server: MetricsServer, accept?: string): Promise<{ contentType: string | null; text: string }> {
  const response = await fetch(`${server.url}/metrics`, accept ? { headers: { accept } } : {});
  expect(response.status).toBe(200);
  return { contentType: response.headers.get('content-type'), text: await response.text() };
}

const leValues = (exposition: Exposition, name: string, labels: Record<string, string> = {}) =>
  samplesOf(exposition, `${name}_bucket`, labels).map((s) => s.labels.le);

describe('the reference metrics after a scripted cycle, scraped over HTTP', () => {
  const clock = new ManualClock(start);
  const metrics = createOffloadMetrics({
    tables: [
      { name: BINANCE.table, layer: BINANCE.layer },
      { name: SILVER.table, layer: SILVER.layer },
    ],
    version: '1.2.3',
    scheduleMinutes: 15,
    clock,
  });
  let server: MetricsServer;
  let exposition: Exposition;

  beforeAll(async () => {
    const events = new OffloadEvents((error) => {
      throw error;
    });
    recordOffloadEvents(metrics, events);
    scriptCycle(events);
    clock.set(at(714.2 + 300));
    server = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });
    const { contentType, text } = await scrape(server);
    expect(contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    exposition = parseExposition(text);
  });
  afterAll(() => server.close());

  it('declares every reference metric with its exact type', () => {
    const expected: Record<string, string> = {
      offload_rows_total: 'counter',
      offload_cycles_total: 'counter',
      offload_errors_total: 'counter',
      offload_lag_minutes: 'gauge',
      watermark_timestamp_seconds: 'gauge',
      offload_tables_configured: 'gauge',
      offload_last_success_timestamp: 'gauge',
      offload_last_failure_timestamp: 'gauge',
      offload_duration_seconds: 'histogram',
      offload_cycle_duration_seconds: 'histogram',
      offload_rows_per_second: 'summary',
      offload_info: 'gauge',
    };
    expect(Object.keys(expected)).toEqual([...REFERENCE_METRIC_NAMES]);
    for (const [name, type] of Object.entries(expected)) expect(exposition.types.get(name), name).toBe(type);
    expect(exposition.types.get(METRIC_NAMES.lastCycleDurationSeconds)).toBe('gauge');
    expect(exposition.types.get(METRIC_NAMES.lastRowsPerSecond)).toBe('gauge');
    expect(exposition.types.get(METRIC_NAMES.lastBatchRows)).toBe('gauge');
    expect(exposition.types.get(METRIC_NAMES.lastBatchDurationSeconds)).toBe('gauge');
  });

  it('uses exactly the reference label names', () => {
    const expected: Record<string, string[]> = {
      offload_rows_total: ['layer,table'],
      offload_cycles_total: ['status'],
      offload_errors_total: ['error_type,table'],
      offload_lag_minutes: ['table'],
      watermark_timestamp_seconds: ['table'],
      offload_tables_configured: [''],
      offload_last_success_timestamp: [''],
      offload_last_failure_timestamp: [''],
      offload_info: ['schedule_minutes,start_time,tables,version'],
    };
    for (const [name, sets] of Object.entries(expected)) expect(labelNameSets(exposition, [name]), name).toEqual(sets);
    const family = (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`, name];
    expect(labelNameSets(exposition, family('offload_duration_seconds'))).toEqual(['layer,table']);
    expect(labelNameSets(exposition, family('offload_cycle_duration_seconds'))).toEqual(['']);
    expect(labelNameSets(exposition, family('offload_rows_per_second'))).toEqual(['table']);
  });

  it('uses exactly the reference bucket boundaries', () => {
    const durationLe = [...DURATION_BUCKETS.map(String), '+Inf'];
    expect(durationLe).toEqual(['1', '5', '10', '30', '60', '120', '300', '600', '+Inf']);
    expect(leValues(exposition, 'offload_duration_seconds', { table: BINANCE.table, layer: 'bronze' })).toEqual(durationLe);
    expect(leValues(exposition, 'offload_duration_seconds', { table: SILVER.table, layer: 'silver' })).toEqual(durationLe);
    const cycleLe = [...CYCLE_DURATION_BUCKETS.map(String), '+Inf'];
    expect(cycleLe).toEqual(['5', '10', '15', '30', '60', '120', '300', '600', '900', '+Inf']);
    expect(leValues(exposition, 'offload_cycle_duration_seconds')).toEqual(cycleLe);
  });

  it('exports every label value, zero-initialised where nothing happened', () => {
    expect(samplesOf(exposition, 'offload_cycles_total').map((s) => s.labels.status).sort()).toEqual(['failed', 'partial', 'success']);
    for (const table of [BINANCE.table, SILVER.table]) {
      expect(samplesOf(exposition, 'offload_errors_total', { table }).map((s) => s.labels.error_type).sort()).toEqual([
        'connection',
        'crash',
        'process_error',
        'timeout',
      ]);
    }
    expect(samplesOf(exposition, 'offload_rows_total').map((s) => `${s.labels.table}/${s.labels.layer}`)).toEqual([
      'bronze_trades_binance/bronze',
      'silver_trades/silver',
    ]);
  });

  it('counts rows, cycles and errors (every failed attempt)', () => {
    expect(valueOf(exposition, 'offload_rows_total', { table: BINANCE.table, layer: 'bronze' })).toBe(3_850_000);
    expect(valueOf(exposition, 'offload_rows_total', { table: SILVER.table, layer: 'silver' })).toBe(0);
    expect(valueOf(exposition, 'offload_cycles_total', { status: 'partial' })).toBe(1);
    expect(valueOf(exposition, 'offload_cycles_total', { status: 'success' })).toBe(0);
    expect(valueOf(exposition, 'offload_cycles_total', { status: 'failed' })).toBe(0);
    expect(valueOf(exposition, 'offload_errors_total', { table: SILVER.table, error_type: 'timeout' })).toBe(2);
    expect(valueOf(exposition, 'offload_errors_total', { table: SILVER.table, error_type: 'crash' })).toBe(0);
    expect(valueOf(exposition, 'offload_errors_total', { table: BINANCE.table, error_type: 'timeout' })).toBe(0);
  });

  it('observes durations of successful and failed offloads, and of the cycle', () => {
    const binance = { table: BINANCE.table, layer: 'bronze' };
    expect(valueOf(exposition, 'offload_duration_seconds_sum', binance)).toBeCloseTo(14.2);
    expect(valueOf(exposition, 'offload_duration_seconds_count', binance)).toBe(1);
    expect(valueOf(exposition, 'offload_duration_seconds_bucket', { ...binance, le: '10' })).toBe(0);
    expect(valueOf(exposition, 'offload_duration_seconds_bucket', { ...binance, le: '30' })).toBe(1);
    const silver = { table: SILVER.table, layer: 'silver' };
    expect(valueOf(exposition, 'offload_duration_seconds_sum', silver)).toBe(700);
    expect(valueOf(exposition, 'offload_duration_seconds_count', silver)).toBe(1);
    expect(valueOf(exposition, 'offload_duration_seconds_bucket', { ...silver, le: '600' })).toBe(0);
    expect(valueOf(exposition, 'offload_duration_seconds_bucket', { ...silver, le: '+Inf' })).toBe(1);
    expect(valueOf(exposition, 'offload_cycle_duration_seconds_sum')).toBeCloseTo(714.2);
    expect(valueOf(exposition, 'offload_cycle_duration_seconds_count')).toBe(1);
    expect(valueOf(exposition, 'offload_cycle_duration_seconds_bucket', { le: '600' })).toBe(0);
    expect(valueOf(exposition, 'offload_cycle_duration_seconds_bucket', { le: '900' })).toBe(1);
    expect(valueOf(exposition, 'offload_last_cycle_duration_seconds')).toBeCloseTo(714.2);
  });

  it('exports throughput quantiles 0.5, 0.9 and 0.99 and the last throughput', () => {
    const rate = 3_850_000 / 14.2;
    const quantiles = samplesOf(exposition, 'offload_rows_per_second', { table: BINANCE.table });
    expect(quantiles.map((s) => s.labels.quantile)).toEqual(['0.5', '0.9', '0.99']);
    for (const sample of quantiles) expect(sample.value).toBeCloseTo(rate, 3);
    expect(valueOf(exposition, 'offload_rows_per_second_sum', { table: BINANCE.table })).toBeCloseTo(rate, 3);
    expect(valueOf(exposition, 'offload_rows_per_second_count', { table: BINANCE.table })).toBe(1);
    expect(valueOf(exposition, 'offload_last_rows_per_second', { table: BINANCE.table })).toBeCloseTo(rate, 3);
    // The failed table has no throughput: no observation, no series.
    expect(samplesOf(exposition, 'offload_rows_per_second', { table: SILVER.table })).toEqual([]);
  });

  it("exports each table's last productive batch (rows and job seconds) for judging it by volume", () => {
    expect(valueOf(exposition, 'offload_last_batch_rows', { table: BINANCE.table })).toBe(3_850_000);
    expect(valueOf(exposition, 'offload_last_batch_duration_seconds', { table: BINANCE.table })).toBeCloseTo(14.2);
    // A failed run wrote no batch: no series, so no alert can judge it.
    expect(samplesOf(exposition, 'offload_last_batch_rows', { table: SILVER.table })).toEqual([]);
    expect(samplesOf(exposition, 'offload_last_batch_duration_seconds', { table: SILVER.table })).toEqual([]);
  });

  it('sets cycle timestamps, freshness, configured tables and info', () => {
    expect(valueOf(exposition, 'offload_last_success_timestamp')).toBe(0);
    expect(valueOf(exposition, 'offload_last_failure_timestamp')).toBeCloseTo(at(714.2).getTime() / 1000);
    expect(valueOf(exposition, 'offload_lag_minutes', { table: BINANCE.table })).toBeCloseTo(1000 / 60);
    // Never succeeded: lag counts from the start time.
    expect(valueOf(exposition, 'offload_lag_minutes', { table: SILVER.table })).toBeCloseTo((714.2 + 300) / 60);
    expect(valueOf(exposition, 'watermark_timestamp_seconds', { table: BINANCE.table })).toBeCloseTo(at(14.2).getTime() / 1000);
    expect(valueOf(exposition, 'watermark_timestamp_seconds', { table: SILVER.table })).toBe(start.getTime() / 1000);
    expect(valueOf(exposition, 'offload_tables_configured')).toBe(2);
    expect(samplesOf(exposition, 'offload_info')).toEqual([
      {
        name: 'offload_info',
        labels: { version: '1.2.3', schedule_minutes: '15', tables: 'bronze_trades_binance,silver_trades', start_time: '2026-11-21T14:00:00.000Z' },
        value: 1,
      },
    ]);
  });

  it('serves OpenMetrics when asked, without renaming counters for later Prometheus scrapes', async () => {
    const prometheusAccept =
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const open = await scrape(server, prometheusAccept);
    expect(open.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    const om = parseExposition(open.text);
    expect(om.eof).toBe(true);
    expect(om.types.get('offload_rows')).toBe('counter');
    expect(om.types.get('offload_rows_total')).toBeUndefined();
    expect(valueOf(om, 'offload_rows_total', { table: BINANCE.table, layer: 'bronze' })).toBe(3_850_000);
    expect(om.types.get('offload_rows_per_second')).toBe('summary');
    expect(samplesOf(om, 'offload_rows_per_second', { table: BINANCE.table }).map((s) => s.labels.quantile)).toEqual(['0.5', '0.9', '0.99']);
    expect(leValues(om, 'offload_cycle_duration_seconds')).toEqual(['5.0', '10.0', '15.0', '30.0', '60.0', '120.0', '300.0', '600.0', '900.0', '+Inf']);
    expect(leValues(om, 'offload_duration_seconds', { table: BINANCE.table })).toEqual(['1.0', '5.0', '10.0', '30.0', '60.0', '120.0', '300.0', '600.0', '+Inf']);

    const again = parseExposition((await scrape(server)).text);
    expect(again.eof).toBe(false);
    expect(again.types.get('offload_rows_total')).toBe('counter');
    expect(again.types.get('offload_errors_total')).toBe('counter');
    expect(valueOf(again, 'offload_rows_total', { table: BINANCE.table, layer: 'bronze' })).toBe(3_850_000);
  });
});
