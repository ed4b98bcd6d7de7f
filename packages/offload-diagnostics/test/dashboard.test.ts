import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '@coldtier/test-support';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DATASOURCE, generateGrafanaDashboard, renderGrafanaDashboard } from '../src/dashboard/index.js';
import { resolveThresholds } from '../src/thresholds/index.js';
import { queryableSeriesNames, seriesNamesIn } from './rules.series-names.js';

const dashboard = generateGrafanaDashboard();
const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.id, expr: target.expr })));
const steps = (id: number, d = dashboard) => d.panels.find((panel) => panel.id === id)!.fieldConfig.defaults.thresholds.steps;

describe('generated Grafana dashboard', () => {
  it('keeps the reference identity', () => {
    expect(dashboard).toMatchObject({ uid: 'iceberg-offload', title: 'Iceberg Offload Pipeline', refresh: '30s', time: { from: 'now-1h', to: 'now' } });
    expect(JSON.parse(renderGrafanaDashboard())).toEqual(JSON.parse(JSON.stringify(dashboard)));
  });

  it('has the panels of the monitoring guide, in its order, the duration for volume the throughput alert reads, then the TTL headroom', () => {
    expect(dashboard.panels.map((panel) => [panel.id, panel.type, panel.title])).toEqual([
      [1, 'gauge', 'Offload Lag'],
      [2, 'stat', 'Success Rate (30m)'],
      [3, 'stat', 'Configured Tables'],
      [4, 'timeseries', 'Offload Rate (rows/second)'],
      [5, 'timeseries', 'Offload Duration (last, mean)'],
      [6, 'timeseries', 'Duration for Volume (% of acceptable)'],
      [7, 'timeseries', 'Cycle Duration (15-min target)'],
      [8, 'timeseries', 'Error Rate (errors/minute)'],
      [9, 'timeseries', 'Throughput Quantiles (p50, p90, p99)'],
      [10, 'timeseries', 'Cycle Status Distribution'],
      [11, 'timeseries', 'TTL Headroom'],
    ]);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      expect(panel.targets.length).toBeGreaterThan(0);
    }
    // Exact durations, never histogram_quantile over buckets (a 0.2 s run would read 0.5/0.95/0.99 s).
    expect(dashboard.panels.find((panel) => panel.id === 5)!.targets.map((t) => t.legendFormat)).toEqual(['last {{table}}', 'mean {{table}}']);
    expect(queries.filter((q) => q.expr.includes('histogram_quantile'))).toEqual([]);
  });

  it('reads every panel and query from the templated Prometheus datasource', () => {
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }));
    expect(DATASOURCE).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    for (const panel of dashboard.panels) {
      expect(panel.datasource).toEqual(DATASOURCE);
      for (const target of panel.targets) expect(target.datasource).toEqual(DATASOURCE);
    }
  });

  it('colours lag, success rate, cycle duration duration for volume and TTL headroom where the alerts fire', () => {
    expect(steps(1)).toEqual([{ color: 'green', value: null }, { color: 'yellow', value: 20 }, { color: 'red', value: 30 }]);
    expect(steps(2)).toEqual([{ color: 'red', value: null }, { color: 'yellow', value: 90 }, { color: 'green', value: 95 }]);
    expect(steps(7)).toEqual([{ color: 'green', value: null }, { color: 'yellow', value: 300 }, { color: 'red', value: 600 }]);
    expect(steps(6)).toEqual([{ color: 'green', value: null }, { color: 'yellow', value: 100 }]);
    // Rows/s is not judged on its own: a small batch would always read red.
    expect(steps(4)).toEqual([{ color: 'green', value: null }]);
    expect(steps(9)).toEqual([{ color: 'green', value: null }]);
    expect(steps(11)).toEqual([{ color: 'red', value: null }, { color: 'yellow', value: 7_200 }, { color: 'green', value: 86_400 }]);
  });

  it('takes its colours from the threshold table, per table where a table has an override', () => {
    const thresholds = resolveThresholds({
      overrides: { lag: { acceptable: 15, critical: 45 }, cycleDuration: { acceptable: 120 } },
      tables: { quiet_table: { lag: { acceptable: 60, critical: 90 } } },
    });
    const custom = generateGrafanaDashboard({ thresholds });
    expect(steps(1, custom).map((s) => s.value)).toEqual([null, 15, 45]);
    expect(steps(7, custom).map((s) => s.value)).toEqual([null, 120, 600]);
    expect(custom.panels[0]!.fieldConfig.overrides).toEqual([
      {
        matcher: { id: 'byName', options: 'quiet_table' },
        properties: [{ id: 'thresholds', value: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'yellow', value: 60 }, { color: 'red', value: 90 }] } }],
      },
    ]);
    expect(dashboard.panels[0]!.fieldConfig.overrides).toEqual([]);
    expect(generateGrafanaDashboard({ thresholds: resolveThresholds({ overrides: { errorRate: { acceptable: 0.5 } } }) }).panels[7]!.fieldConfig.defaults.thresholds.steps).toEqual([
      { color: 'green', value: null },
      { color: 'yellow', value: 0.5 },
    ]);
  });

  it('counts cycles per status in whole numbers', () => {
    const status = dashboard.panels.find((panel) => panel.title === 'Cycle Status Distribution')!;
    expect(status.targets[0]!.expr).toMatch(/^round\(sum by \(status\) \(increase\(offload_cycles_total\{job="iceberg-scheduler"\}\[15m\]\)\)\)$/);
  });

  it('queries only series the exporter produces', async () => {
    const scraped = await queryableSeriesNames();
    for (const { panel, expr } of queries) {
      const names = seriesNamesIn(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      expect(names.filter((name) => !scraped.has(name)), `panel ${panel}: ${expr}`).toEqual([]);
    }
  });

  it('queries return data on a healthy exporter between cycles (checked with promtool)', async () => {
    // Each query becomes an alert on absent(query); promtool proves none fires
    // on the healthy pipeline's series, i.e. every query returns data.
    const healthy = parse(await readFile(fileURLToPath(new URL('./promtool/healthy.yml', import.meta.url)), 'utf8')) as {
      tests: { input_series: unknown[] }[];
    };
    const alertName = (i: number) => `DashboardQuery${i}`;
    const rules = { groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ alert: alertName(i), expr: `absent(${q.expr})` })) }] };
    const tests = {
      rule_files: ['dashboard-rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: healthy.tests[0]!.input_series,
          alert_rule_test: ['31m', '44m', '120m'].flatMap((at) => queries.map((_, i) => ({ eval_time: at, alertname: alertName(i), exp_alerts: [] }))),
        },
      ],
    };
    const dir = await createTempDir('coldtier-dashboard-');
    try {
      await writeFile(join(dir.path, 'dashboard-rules.yml'), stringify(rules));
      await writeFile(join(dir.path, 'dashboard-test.yml'), stringify(tests));
      const output = await new Promise<string>((resolve, reject) => {
        execFile(process.env['PROMTOOL'] ?? 'promtool', ['test', 'rules', 'dashboard-test.yml'], { cwd: dir.path }, (error, stdout, stderr) => {
          if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('promtool not found: install prometheus or set PROMTOOL'));
          else if (error) reject(new Error(`${stdout}${stderr}`));
          else resolve(stdout);
        });
      });
      expect(output).toContain('SUCCESS');
    } finally {
      await dir.remove();
    }
  });
});
