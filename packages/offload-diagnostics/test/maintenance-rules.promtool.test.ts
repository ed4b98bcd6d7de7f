import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MAINTENANCE_METRIC_NAMES } from '@coldtier/offload-metrics';
import { generateMaintenanceDashboard, generateMaintenanceRules, renderMaintenanceRules } from '../src/maintenance/index.js';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';

function promtool(args: readonly string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error(`promtool not found (${PROMTOOL})`));
      else resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const J = 'job="iceberg-scheduler",instance="s:8000"';
const series = (name: string, labels: string, values: string) => ({ series: `${name}{${J},${labels}}`, values });
const M = MAINTENANCE_METRIC_NAMES;

const LABELS = { table: 't', severity: 'warning', component: 'iceberg-scheduler', tier: 'cold-storage' };
const RUNBOOK = 'docs/runbooks/iceberg-table-maintenance.md';
const failing = {
  exp_labels: LABELS,
  exp_annotations: {
    summary: 'Iceberg maintenance of t keeps failing',
    description: '2 maintenance actions of t failed in the last 120m and none ran clean since; small files and snapshots accumulate.',
    runbook_url: RUNBOOK,
  },
};

/** Hourly maintenance (window 2 h), sampled every 10 minutes. */
const tests = [
  {
    name: 'two failed runs and no success: failing',
    interval: '10m',
    input_series: [
      series(M.runsTotal, 'table="t",action="compact",status="failed"', '0 0 0 1 1 1 1 1 1 2 2 2 2 2 2'),
      series(M.tableMaxFilesPerPartition, 'table="t"', '10x14'),
    ],
    alert_rule_test: [
      { eval_time: '100m', alertname: 'IcebergMaintenanceFailing', exp_alerts: [failing] },
      { eval_time: '100m', alertname: 'IcebergTableFilesAccumulating', exp_alerts: [] },
    ],
  },
  {
    name: 'failures followed by a clean run: quiet',
    interval: '10m',
    input_series: [
      series(M.runsTotal, 'table="t",action="compact",status="failed"', '0 0 0 1 1 1 1 1 1 2 2 2 2 2 2'),
      // A clean run at 110m, recorded as a Unix time in seconds.
      series(M.lastSuccessTimestamp, 'table="t"', '_x11 6600x3'),
    ],
    alert_rule_test: [
      { eval_time: '100m', alertname: 'IcebergMaintenanceFailing', exp_alerts: [failing] },
      { eval_time: '130m', alertname: 'IcebergMaintenanceFailing', exp_alerts: [] },
    ],
  },
  {
    name: 'files pile up in a partition for an hour',
    interval: '1m',
    input_series: [series(M.tableMaxFilesPerPartition, 'table="t"', '150x9 250x90'), series(M.tableMaxFilesPerPartition, 'table="u"', '150x99')],
    alert_rule_test: [
      { eval_time: '30m', alertname: 'IcebergTableFilesAccumulating', exp_alerts: [] },
      {
        eval_time: '80m',
        alertname: 'IcebergTableFilesAccumulating',
        exp_alerts: [
          {
            exp_labels: LABELS,
            exp_annotations: {
              summary: 'Data files of t are piling up',
              description: 'A partition of t holds 250 data files (more than 200) after maintenance: compaction is off, failing or not keeping up, and scans slow down.',
              runbook_url: RUNBOOK,
            },
          },
        ],
      },
    ],
  },
];

let dir: TempDir;
beforeAll(async () => {
  dir = await createTempDir('coldtier-promtool-maint-');
  await writeFile(join(dir.path, 'maintenance-rules.yml'), renderMaintenanceRules({ intervalHours: 1 }));
  await writeFile(join(dir.path, 'cases.yml'), stringify({ rule_files: ['maintenance-rules.yml'], evaluation_interval: '1m', tests }));
});
afterAll(() => dir.remove());

describe('maintenance alerts', () => {
  it('pass promtool check rules and its unit tests, negative cases included', async () => {
    const check = await promtool(['check', 'rules', 'maintenance-rules.yml'], dir.path);
    expect(check.output).toContain('SUCCESS: 2 rules found');
    const run = await promtool(['test', 'rules', 'cases.yml'], dir.path);
    expect(run.code, run.output).toBe(0);
  });

  it('refuse unusable thresholds with one issue per key', () => {
    expect(() => generateMaintenanceRules({ intervalHours: 0, failedRuns: 1.5 })).toThrow(/intervalHours: expected hours > 0, got 0[\s\S]*failedRuns/);
  });

  it('and the dashboard query only the exported maintenance series', () => {
    const exported = new Set<string>(Object.values(M));
    const dashboard = generateMaintenanceDashboard();
    expect(dashboard.uid).toBe('iceberg-maintenance');
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const names = [...target.expr.matchAll(/\b(offload_[a-z_]+)\{/g)].map((m) => m[1]!);
        expect(names.length, target.expr).toBeGreaterThan(0);
        for (const name of names) expect(exported, target.expr).toContain(name);
      }
    }
  });
});
