import { OffloadError } from '@coldtier/offload-core';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  evaluateCycleDurations,
  evaluateDurationForVolume,
  evaluateHourlyRows,
  evaluateLags,
  evaluateSuccessRate,
  evaluateTableDurations,
  evaluateTableErrors,
  evaluateThroughputs,
  percentile,
} from '../src/evaluate/index.js';
import { resolveThresholds } from '../src/thresholds/index.js';

const set = resolveThresholds();

describe('grading one value', () => {
  it('names the bound crossed and the value in one line', () => {
    expect(evaluate(set, 'cycleDuration', 800)).toEqual({
      level: 'critical',
      threshold: 'cycleDuration',
      value: 800,
      crossed: 'critical',
      limit: 600,
      reason: 'cycle duration 800 s is above the critical bound 600 s',
    });
    expect(evaluate(set, 'cycleDuration', 400)).toMatchObject({ level: 'warning', crossed: 'acceptable', limit: 300 });
    expect(evaluate(set, 'cycleDuration', 45).reason).toBe('cycle duration 45 s is within bounds but misses the target 30 s');
    expect(evaluate(set, 'cycleDuration', 12.4).reason).toBe('cycle duration 12.4 s meets the target 30 s');
  });

  it('treats a bound as crossed only past it, unless the seeds say "N+"', () => {
    expect(evaluate(set, 'cycleDuration', 600).level).toBe('warning');
    expect(evaluate(set, 'tableErrors', 3, 'bronze_trades_binance')).toMatchObject({
      level: 'critical',
      table: 'bronze_trades_binance',
      reason: 'errors of one table of bronze_trades_binance 3 errors is at or above the critical bound 3 errors',
    });
    expect(evaluate(set, 'tableErrors', 2).level).toBe('ok');
  });

  it('grades lower-is-worse thresholds from below', () => {
    expect(evaluate(set, 'successRate', 92)).toMatchObject({ level: 'warning', limit: 95 });
    expect(evaluate(set, 'successRate', 80)).toMatchObject({ level: 'critical', limit: 90 });
    expect(evaluate(set, 'clickhouseFreeMemory', 512 * 1024 ** 2).reason).toBe(
      'ClickHouse free memory 512 MiB is below the critical bound 1 GiB',
    );
  });

  it('refuses a value that is not a number', () => {
    expect(() => evaluate(set, 'lag', Number.NaN)).toThrow(OffloadError);
  });
});

describe('grading windows', () => {
  it('grades cycles against 2/3 of the configured schedule', () => {
    const slow = [12, 14, 800];
    expect(evaluateCycleDurations(set, slow)).toMatchObject({ level: 'critical', reason: 'longest cycle duration 800 s is above the critical bound 600 s' });
    expect(evaluateCycleDurations(resolveThresholds({ scheduleMinutes: 30 }), slow).grades[0]).toMatchObject({ level: 'warning', limit: 300 });
    expect(evaluateCycleDurations(set, [])).toMatchObject({ level: 'ok', reason: 'no cycle finished in the window', grades: [] });
  });

  it('grades table durations per table with their overrides', () => {
    const overridden = resolveThresholds({ tables: { silver_trades: { tableDuration: { acceptable: 600, critical: 900 } } } });
    const runs = [
      { table: 'bronze_trades_binance', seconds: 14.2, rows: 3_850_000 },
      { table: 'silver_trades', seconds: 400, rows: 1 },
    ];
    const longest = (window: ReturnType<typeof evaluateTableDurations>) =>
      window.grades.find((g) => g.table === 'silver_trades' && g.threshold === 'tableDuration')!;
    expect(longest(evaluateTableDurations(overridden, runs)).level).toBe('ok');
    expect(longest(evaluateTableDurations(set, runs))).toMatchObject({ level: 'critical', limit: 300 });
    const window = evaluateTableDurations(overridden, runs);
    expect(window.grades.filter((g) => g.level !== 'ok').map((g) => [g.table, g.threshold, g.level])).toEqual([
      ['silver_trades', 'tableDurationP95', 'warning'],
      ['silver_trades', 'tableDurationP99', 'critical'],
    ]);
  });

  it('leaves runs without rows out of throughput', () => {
    const runs = [
      { table: 'bronze_trades_kraken', seconds: 6.8, rows: 19_600 },
      { table: 'bronze_trades_kraken', seconds: 1, rows: 0 },
      { table: 'bronze_trades_binance', seconds: 14.2, rows: 3_850_000 },
    ];
    const window = evaluateThroughputs(set, runs);
    expect(window.level).toBe('critical');
    expect(window.reason).toBe('throughput of bronze_trades_kraken 2,882.35 rows/s is below the critical bound 10,000 rows/s');
    expect(evaluateThroughputs(set, [{ table: 'x', seconds: 2, rows: 0 }])).toMatchObject({ level: 'ok', grades: [] });
  });

  it('grades lags per table and the success rate of a window', () => {
    expect(evaluateLags(set, { a: 12, b: 25 })).toMatchObject({ level: 'warning', reason: 'offload lag of b 25 min is above the acceptable bound 20 min' });
    expect(evaluateSuccessRate(set, ['success', 'success', 'partial', 'success'])).toMatchObject({
      level: 'critical',
      reason: 'cycle success rate (3/4) 75% is below the critical bound 90%',
    });
    expect(evaluateSuccessRate(set, [])).toMatchObject({ level: 'ok', grades: [] });
    expect(evaluateTableErrors(set, { a: 1, b: 4 }).level).toBe('critical');
  });

  it('says whether an hourly volume spike is subsiding', () => {
    expect(evaluateHourlyRows(set, 't', [4e6, 12e6, 6e6]).reason).toBe(
      'peak rows per hour of t 12,000,000 rows/h is above the critical bound 10,000,000 rows/h; the spike is subsiding',
    );
    expect(evaluateHourlyRows(set, 't', [4e6, 6e6, 7e6])).toMatchObject({ level: 'warning' });
    expect(evaluateHourlyRows(set, 't', [1e6]).level).toBe('ok');
  });

  it('judges a duration by the volume it moved', () => {
    expect(evaluateDurationForVolume(80_000, 75)).toMatchObject({ level: 'warning', reason: expect.stringContaining('check network latency') });
    expect(evaluateDurationForVolume(3_850_000, 14.2).level).toBe('ok');
    expect(evaluateDurationForVolume(50_000_000, 700).target.rows).toBe(10_000_000);
    // The alert's durationForVolume bound, per table: 150% allows a 10M-row batch 900 s.
    const lenient = resolveThresholds({ tables: { slow: { durationForVolume: { acceptable: 150 } } } });
    expect(evaluateDurationForVolume(10_000_000, 700).level).toBe('warning');
    expect(evaluateDurationForVolume(10_000_000, 700, lenient.get('durationForVolume', 'slow'))).toMatchObject({ level: 'ok', allowedSeconds: 900 });
    expect(evaluateDurationForVolume(10_000_000, 950, lenient.get('durationForVolume', 'slow')).reason).toContain("< 900 s, 150% of the guide's 600 s");
  });

  it('computes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(percentile([], 0.5)).toBeUndefined();
  });
});
