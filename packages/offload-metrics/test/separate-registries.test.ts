import { OffloadEvents } from '@coldtier/offload-core';
import { register as globalRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, createOffloadMetrics, recordOffloadEvents } from '../src/index.js';
import { succeeded, windowFrom } from './events.js';
import { parseExposition, valueOf } from './exposition.js';

const tables = [{ name: 'ohlcv_1m', layer: 'gold' as const }];
const options = { tables, version: '1.0.0', scheduleMinutes: 15 };
const window = windowFrom(new Date('2026-11-21T13:00:00Z'), new Date('2026-11-21T13:55:00Z'));

describe('metric instances', () => {
  it('live on separate registries in one process without colliding', async () => {
    const first = createOffloadMetrics(options);
    const second = createOffloadMetrics(options);
    expect(first.registry).not.toBe(second.registry);

    const events = new OffloadEvents();
    recordOffloadEvents(first, events);
    events.emit(succeeded({ cycleId: 'c', table: 'ohlcv_1m', layer: 'gold', at: new Date(), rows: 60, durationSeconds: 2, window }));

    const labels = { table: 'ohlcv_1m', layer: 'gold' };
    expect(valueOf(parseExposition(await first.registry.metrics()), METRIC_NAMES.rowsTotal, labels)).toBe(60);
    expect(valueOf(parseExposition(await second.registry.metrics()), METRIC_NAMES.rowsTotal, labels)).toBe(0);
  });

  it('never touch the global registry unless it is passed', async () => {
    createOffloadMetrics(options);
    expect(globalRegistry.getSingleMetric(METRIC_NAMES.rowsTotal)).toBeUndefined();

    const owned = new Registry();
    const metrics = createOffloadMetrics({ ...options, registry: owned });
    expect(metrics.registry).toBe(owned);
    expect(owned.getSingleMetric(METRIC_NAMES.info)).toBeDefined();
  });

  it('cannot be registered twice on one registry', () => {
    const registry = new Registry();
    createOffloadMetrics({ ...options, registry });
    expect(() => createOffloadMetrics({ ...options, registry })).toThrow(/already been registered/);
  });

  it('stop recording once unsubscribed', async () => {
    const metrics = createOffloadMetrics(options);
    const events = new OffloadEvents();
    const unsubscribe = recordOffloadEvents(metrics, events);
    unsubscribe();
    events.emit(succeeded({ cycleId: 'c', table: 'ohlcv_1m', layer: 'gold', at: new Date(), rows: 60, durationSeconds: 2, window }));
    expect(valueOf(parseExposition(await metrics.registry.metrics()), METRIC_NAMES.rowsTotal, { table: 'ohlcv_1m', layer: 'gold' })).toBe(0);
  });

  it('reject duplicate table names, naming the key', () => {
    expect(() => createOffloadMetrics({ ...options, tables: [...tables, ...tables] })).toThrow(/tables\[1\]\.name: duplicate table name "ohlcv_1m"/);
  });
});
