import { ConfigError } from '@coldtier/offload-core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ALERT_NAMES,
  METRIC_NAMES,
  RECORDING_RULE_NAMES,
  exportedSeriesNames,
  generatePrometheusRules,
  renderPrometheusRules,
} from '../src/rules/index.js';
import { resolveThresholds } from '../src/thresholds/index.js';
import { queryableSeriesNames, seriesNamesIn } from './rules.series-names.js';

const alertsOf = (rules = generatePrometheusRules()) => rules.groups[1].rules;
const alert = (name: string, rules = generatePrometheusRules()) => alertsOf(rules).find((rule) => rule.alert === name)!;

describe('generated rules keep the reference contract', () => {
  it('have the reference alert names, severities, for durations and labels', () => {
    const seen = alertsOf().map((rule) => [rule.alert, rule.labels.severity, rule.for]);
    expect(seen).toEqual([
      ['IcebergOffloadConsecutiveFailures', 'critical', '5m'],
      ['IcebergOffloadLagCritical', 'critical', '5m'],
      ['IcebergOffloadCycleTooSlow', 'critical', '2m'],
      ['IcebergOffloadWatermarkStale', 'critical', '5m'],
      ['IcebergOffloadSchedulerDown', 'critical', '2m'],
      ['IcebergOffloadSuccessRateLow', 'warning', '10m'],
      ['IcebergOffloadLagElevated', 'warning', '10m'],
      ['IcebergOffloadThroughputLow', 'warning', '5m'],
      ['IcebergOffloadCycleSlow', 'warning', '10m'],
      ['IcebergOffloadTTLDataAtRisk', 'critical', '5m'],
      ['IcebergOffloadTTLHeadroomLow', 'warning', '15m'],
    ]);
    expect(ALERT_NAMES).toEqual(seen.map(([name]) => name));
    for (const rule of alertsOf()) {
      expect(rule.labels).toMatchObject({ component: 'iceberg-scheduler', tier: 'cold-storage' });
      expect(rule.annotations.summary).not.toBe('');
      expect(rule.annotations.description).not.toBe('');
    }
  });

  it('record the reference recording rules', () => {
    expect(generatePrometheusRules().groups[0].rules.map((rule) => rule.record)).toEqual([...RECORDING_RULE_NAMES]);
  });

  it('link each alert to its runbook under the configured base URL', () => {
    const rules = generatePrometheusRules({ runbookBaseUrl: 'https://runbooks.example/offload/' });
    expect(alert('IcebergOffloadCycleTooSlow', rules).annotations.runbook_url).toBe(
      'https://runbooks.example/offload/iceberg-offload-performance.md',
    );
    expect(alert('IcebergOffloadSchedulerDown', rules).annotations.runbook_url).toBe(
      'https://runbooks.example/offload/iceberg-scheduler-recovery.md',
    );
  });

  it('render a YAML rule file that parses back to the generated rules', () => {
    expect(parse(renderPrometheusRules())).toEqual(JSON.parse(JSON.stringify(generatePrometheusRules())));
  });
});

describe('generated rules query only what the exporter produces', () => {
  it('name only series a scrape of the exporter yields, never a bare histogram name', async () => {
    const scraped = await queryableSeriesNames();
    expect([...exportedSeriesNames()].filter((name) => !scraped.has(name))).toEqual([]);
    const rules = generatePrometheusRules();
    for (const rule of [...rules.groups[0].rules, ...rules.groups[1].rules]) {
      const names = seriesNamesIn(rule.expr);
      expect(names.length, rule.expr).toBeGreaterThan(0);
      expect(names.filter((name) => !scraped.has(name)), rule.expr).toEqual([]);
    }
    expect(scraped.has(METRIC_NAMES.cycleDurationSeconds)).toBe(false);
  });

  it('find the names the reference got wrong', () => {
    expect(seriesNamesIn('offload_cycle_duration_seconds > 600')).toEqual(['offload_cycle_duration_seconds']);
    expect(seriesNamesIn('sum by (table) (rate(x_total{a="b c"}[5m])) / on (table) y > 0.1')).toEqual(['x_total', 'y']);
  });
});

describe('generated rules follow the schedule and the threshold table', () => {
  it('derive the cycle bound and windows from a 30-minute schedule', () => {
    const rules = generatePrometheusRules({ scheduleMinutes: 30 });
    expect(alert('IcebergOffloadCycleTooSlow', rules).expr).toBe('offload_last_cycle_duration_seconds{job="iceberg-scheduler"} > 1200');
    expect(alert('IcebergOffloadSuccessRateLow', rules).expr).toContain('[60m]');
    expect(alert('IcebergOffloadThroughputLow', rules).expr).toContain('[60m]');
    expect(alert('IcebergOffloadConsecutiveFailures', rules).expr).toContain('[30m]');
  });

  it('keep the seeds’ 15-minute error window on shorter schedules', () => {
    expect(alert('IcebergOffloadConsecutiveFailures', generatePrometheusRules({ scheduleMinutes: 5 })).expr).toContain('[15m]');
  });

  it('write per-table overrides as separate clauses', () => {
    const thresholds = resolveThresholds({
      overrides: { lag: { critical: 45 } },
      tables: { ohlcv_1d: { watermarkAge: { critical: 90_000 } } },
    });
    const rules = generatePrometheusRules({ thresholds });
    expect(alert('IcebergOffloadLagCritical', rules).expr).toBe('offload_lag_minutes{job="iceberg-scheduler"} > 45');
    expect(alert('IcebergOffloadWatermarkStale', rules).expr).toBe(
      '(time() - watermark_timestamp_seconds{job="iceberg-scheduler",table!~"ohlcv_1d"} > 3600)' +
        ' or (time() - watermark_timestamp_seconds{job="iceberg-scheduler",table="ohlcv_1d"} > 90000)',
    );
  });

  it('use the configured job everywhere', () => {
    const rules = generatePrometheusRules({ job: 'coldtier' });
    for (const rule of [...rules.groups[0].rules, ...rules.groups[1].rules]) {
      expect(rule.expr).not.toContain('iceberg-scheduler');
      expect(rule.expr).toContain('job="coldtier"');
    }
  });

  it('refuse a schedule that disagrees with the thresholds, and an unusable job', () => {
    expect(() => generatePrometheusRules({ scheduleMinutes: 30, thresholds: resolveThresholds() })).toThrow(ConfigError);
    expect(() => generatePrometheusRules({ job: 'a"b' })).toThrow(/job/);
  });
});
