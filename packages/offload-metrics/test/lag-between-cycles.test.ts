import { ManualClock, OffloadEvents, INITIAL_CURSOR } from '@coldtier/offload-core';
import type { LogFields, Logger, WatermarkState } from '@coldtier/offload-core';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, createOffloadMetrics, recordOffloadEvents } from '../src/index.js';
import type { LagSource } from '../src/index.js';
import { succeeded, windowFrom } from './events.js';
import { parseExposition, valueOf } from './exposition.js';

const MINUTE = 60_000;
const t0 = new Date('2026-11-21T14:00:00Z');
const minutesAfter = (m: number) => new Date(t0.getTime() + m * MINUTE);
const tables = [
  { name: 'bronze_trades_binance', layer: 'bronze' as const },
  { name: 'ohlcv_1h', layer: 'gold' as const },
];

function state(table: string, fields: Partial<WatermarkState>): WatermarkState {
  return {
    table,
    cursor: INITIAL_CURSOR,
    status: 'success',
    lastRowCount: 0,
    lastSuccessfulRunAt: null,
    lastRunDurationSeconds: null,
    failureCount: 0,
    lastErrorMessage: null,
    advancedAt: null,
    createdAt: minutesAfter(-600),
    updatedAt: minutesAfter(-600),
    ...fields,
  };
}

/** A watermark store as far as lag is concerned: its rows, and a switch to make it fail. */
class ScriptedStore implements LagSource {
  rows: WatermarkState[] = [];
  failing = false;
  reads = 0;
  async list(): Promise<readonly WatermarkState[]> {
    this.reads++;
    if (this.failing) throw new Error('connection refused');
    return this.rows;
  }
}

class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields: LogFields | undefined }[] = [];
  debug(message: string, fields?: LogFields) { this.lines.push({ level: 'debug', message, fields }); }
  info(message: string, fields?: LogFields) { this.lines.push({ level: 'info', message, fields }); }
  warn(message: string, fields?: LogFields) { this.lines.push({ level: 'warn', message, fields }); }
  error(message: string, fields?: LogFields) { this.lines.push({ level: 'error', message, fields }); }
}

async function gauge(registry: { metrics(): Promise<string> }, name: string, table: string): Promise<number> {
  return valueOf(parseExposition(await registry.metrics()), name, { table });
}

describe('offload_lag_minutes', () => {
  it('grows while no cycle runs', async () => {
    const clock = new ManualClock(t0);
    const { registry } = createOffloadMetrics({ tables, version: '1', scheduleMinutes: 15, clock });
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'ohlcv_1h')).toBe(0);
    clock.advance(10 * MINUTE);
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'ohlcv_1h')).toBe(10);
    clock.advance(30 * MINUTE);
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'ohlcv_1h')).toBe(40);
  });

  it('is recomputed from the store at every scrape, one read per scrape', async () => {
    const clock = new ManualClock(minutesAfter(20));
    const store = new ScriptedStore();
    store.rows = [
      state('bronze_trades_binance', { lastSuccessfulRunAt: minutesAfter(15), advancedAt: minutesAfter(0) }),
      state('ohlcv_1h', { lastSuccessfulRunAt: null, createdAt: minutesAfter(-100) }),
      state('dropped_from_config', { lastSuccessfulRunAt: minutesAfter(-1000) }),
    ];
    const { registry } = createOffloadMetrics({ tables, version: '1', scheduleMinutes: 15, clock, lagSource: store });

    const first = parseExposition(await registry.metrics());
    expect(store.reads).toBe(1);
    expect(valueOf(first, METRIC_NAMES.lagMinutes, { table: 'bronze_trades_binance' })).toBe(5);
    // Never succeeded: lag counts from the table's registration in the store.
    expect(valueOf(first, METRIC_NAMES.lagMinutes, { table: 'ohlcv_1h' })).toBe(120);
    expect(valueOf(first, METRIC_NAMES.watermarkTimestampSeconds, { table: 'bronze_trades_binance' })).toBe(t0.getTime() / 1000);
    expect(valueOf(first, METRIC_NAMES.watermarkTimestampSeconds, { table: 'ohlcv_1h' })).toBe(minutesAfter(-100).getTime() / 1000);
    expect(first.samples.some((s) => s.labels.table === 'dropped_from_config')).toBe(false);

    clock.advance(45 * MINUTE);
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(50);
    store.rows = [state('bronze_trades_binance', { lastSuccessfulRunAt: minutesAfter(60), advancedAt: minutesAfter(60) })];
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(5);
    expect(store.reads).toBe(3);
  });

  it('keeps rising from the last known state while the store is unreadable', async () => {
    const clock = new ManualClock(minutesAfter(20));
    const store = new ScriptedStore();
    store.rows = [state('bronze_trades_binance', { lastSuccessfulRunAt: minutesAfter(15) })];
    const logger = new RecordingLogger();
    const { registry } = createOffloadMetrics({ tables, version: '1', scheduleMinutes: 15, clock, lagSource: store, logger });
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(5);

    store.failing = true;
    clock.advance(30 * MINUTE);
    expect(await gauge(registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(35);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', fields: { error: 'connection refused' } }));
  });

  it('drops on a success event, and a store read older than the event does not undo it', async () => {
    const clock = new ManualClock(minutesAfter(30));
    const store = new ScriptedStore();
    store.rows = [state('bronze_trades_binance', { lastSuccessfulRunAt: minutesAfter(0), advancedAt: minutesAfter(0) })];
    const metrics = createOffloadMetrics({ tables, version: '1', scheduleMinutes: 15, clock, lagSource: store });
    const events = new OffloadEvents();
    recordOffloadEvents(metrics, events);
    expect(await gauge(metrics.registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(30);

    const window = windowFrom(minutesAfter(-20), minutesAfter(25));
    events.emit(succeeded({ cycleId: 'c', table: 'bronze_trades_binance', layer: 'bronze', at: minutesAfter(28), rows: 10, durationSeconds: 1, window }));
    expect(await gauge(metrics.registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(2);
    expect(await gauge(metrics.registry, METRIC_NAMES.watermarkTimestampSeconds, 'bronze_trades_binance')).toBe(minutesAfter(28).getTime() / 1000);

    // An empty window succeeds without moving the watermark.
    events.emit(succeeded({ cycleId: 'd', table: 'bronze_trades_binance', layer: 'bronze', at: minutesAfter(30), rows: 0, durationSeconds: 1, window }));
    expect(await gauge(metrics.registry, METRIC_NAMES.lagMinutes, 'bronze_trades_binance')).toBe(0);
    expect(await gauge(metrics.registry, METRIC_NAMES.watermarkTimestampSeconds, 'bronze_trades_binance')).toBe(minutesAfter(28).getTime() / 1000);
  });
});
