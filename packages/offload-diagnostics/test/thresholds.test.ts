import { ConfigError } from '@coldtier/offload-core';
import { describe, expect, it } from 'vitest';
import { THRESHOLD_CATALOG, THRESHOLD_IDS, resolveThresholds, type ThresholdOverrides } from '../src/thresholds/index.js';

describe('threshold catalog', () => {
  it('has one documented entry per id, each citing the seeds', () => {
    expect([...THRESHOLD_CATALOG.keys()]).toEqual([...THRESHOLD_IDS]);
    for (const definition of THRESHOLD_CATALOG.values()) {
      expect(definition.sources.length, definition.id).toBeGreaterThan(0);
      const bounds = [definition.target, definition.acceptable, definition.critical].filter((b) => b !== undefined);
      expect(bounds.length, definition.id).toBeGreaterThan(0);
    }
  });

  it('holds the seeds’ alert bounds', () => {
    const set = resolveThresholds();
    expect(set.get('cycleDuration')).toMatchObject({ target: 30, acceptable: 300, critical: 600, unit: 'seconds' });
    expect(set.get('lag')).toMatchObject({ target: 15, acceptable: 20, critical: 30 });
    expect(set.get('lag')).not.toHaveProperty('display');
    expect(set.get('successRate')).toMatchObject({ acceptable: 95, critical: 90, direction: 'below' });
    expect(set.get('durationForVolume')).toMatchObject({ acceptable: 100, unit: 'percent', direction: 'above' });
    expect(set.get('throughput')).toMatchObject({ target: 100_000, acceptable: 10_000, direction: 'below' });
    expect(set.get('tableErrors')).toMatchObject({ critical: 3, inclusive: true });
    expect(set.get('watermarkAge')).toMatchObject({ critical: 3600 });
    expect(set.get('partsCount')).toMatchObject({ acceptable: 100, critical: 200 });
  });
});

describe('resolving thresholds for a deployment', () => {
  it('puts the cycle’s critical bound at 2/3 of the configured schedule', () => {
    expect(resolveThresholds({ scheduleMinutes: 30 }).get('cycleDuration').critical).toBe(1200);
    expect(resolveThresholds({ scheduleMinutes: 15 }).get('cycleDuration').critical).toBe(600);
  });

  it('lowers a fixed catalog bound that a short schedule would put above the critical one', () => {
    const cycle = resolveThresholds({ scheduleMinutes: 5 }).get('cycleDuration');
    expect(cycle).toMatchObject({ acceptable: 200, critical: 200, target: 30 });
  });

  it('applies deployment overrides, then per-table ones', () => {
    const set = resolveThresholds({
      overrides: { lag: { acceptable: 25 } },
      tables: { ohlcv_1d: { lag: { critical: 1500 }, watermarkAge: { critical: 90_000 } } },
    });
    expect(set.get('lag')).toMatchObject({ acceptable: 25, critical: 30 });
    expect(set.get('lag', 'ohlcv_1d')).toMatchObject({ acceptable: 25, critical: 1500, table: 'ohlcv_1d' });
    expect(set.get('lag', 'bronze_trades_binance')).toEqual(set.get('lag'));
    expect(set.overriddenTables('watermarkAge')).toEqual(['ohlcv_1d']);
    expect(set.overriddenTables('cycleDuration')).toEqual([]);
  });

  it('accepts an override relative to the schedule', () => {
    const set = resolveThresholds({ scheduleMinutes: 20, overrides: { cycleDuration: { acceptable: { scheduleFraction: 0.5 } } } });
    expect(set.get('cycleDuration')).toMatchObject({ acceptable: 600, critical: 800 });
  });

  it('reports every invalid value with its path', () => {
    const attempt = () =>
      resolveThresholds({
        scheduleMinutes: 0,
        overrides: {
          lag: { acceptable: 40, critical: 35 },
          partsCount: { critical: { scheduleFraction: 1 } },
          nope: { critical: 1 },
        } as ThresholdOverrides,
        tables: { t: { throughput: { acceptable: Number.NaN } } },
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual([
        'scheduleMinutes',
        'overrides.nope',
        'tables.t.throughput.acceptable',
      ]);
    }
    expect(() => resolveThresholds({ overrides: { lag: { acceptable: 40, critical: 35 } } })).toThrow(/overrides\.lag\.acceptable/);
    expect(() => resolveThresholds({ overrides: { partsCount: { critical: { scheduleFraction: 1 } } } })).toThrow(/time unit/);
  });
});
