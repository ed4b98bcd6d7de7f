import { ConfigError } from '@coldtier/offload-core';
import { MAINTENANCE_METRIC_NAMES as M } from '@coldtier/offload-metrics';
import { stringify } from 'yaml';
import { DEFAULT_JOB, DEFAULT_RUNBOOK_BASE_URL, type AlertingRule, type RuleGroup } from '../rules/generate.js';
import { eq, selector } from '../rules/promql.js';

/** Table maintenance alerts, apart from the reference's frozen nine. */
export const MAINTENANCE_ALERT_NAMES = ['IcebergMaintenanceFailing', 'IcebergTableFilesAccumulating'] as const;

/** Every threshold of the maintenance alerts, in one place. */
export interface MaintenanceRuleOptions {
  /** Prometheus job scraping the scheduler. Default `iceberg-scheduler`. */
  readonly job?: string;
  readonly runbookBaseUrl?: string;
  /** `maintenance.intervalHours`: failing alerts look back two intervals. Default 24. */
  readonly intervalHours?: number;
  /** Failed actions within two intervals, with no success, that page. Default 2 (two runs in a row). */
  readonly failedRuns?: number;
  /**
   * Data files in one partition above which compaction is not keeping up.
   * Default 200: two days of 15-minute appends never compacted.
   */
  readonly maxFilesPerPartition?: number;
}

/** The runbook section the maintenance alerts link. */
const RUNBOOK = 'iceberg-table-maintenance.md';

/**
 * Alerts for maintenance that keeps failing (failed actions over two
 * intervals and no clean run since) and for data files piling up in a
 * partition (compaction disabled, failing or outpaced).
 */
export function generateMaintenanceRules(options: MaintenanceRuleOptions = {}): { readonly groups: readonly [RuleGroup<AlertingRule>] } {
  const job = options.job ?? DEFAULT_JOB;
  const intervalHours = options.intervalHours ?? 24;
  const failedRuns = options.failedRuns ?? 2;
  const maxFiles = options.maxFilesPerPartition ?? 200;
  const issues = [
    ...(job === '' || /["\\\n]/.test(job) ? [{ path: 'job', message: `expected a Prometheus job name, got ${JSON.stringify(job)}` }] : []),
    ...(intervalHours > 0 ? [] : [{ path: 'intervalHours', message: `expected hours > 0, got ${intervalHours}` }]),
    ...(Number.isInteger(failedRuns) && failedRuns > 0 ? [] : [{ path: 'failedRuns', message: `expected a positive integer, got ${failedRuns}` }]),
    ...(maxFiles > 0 ? [] : [{ path: 'maxFilesPerPartition', message: `expected a positive number, got ${maxFiles}` }]),
  ];
  if (issues.length > 0) throw new ConfigError(issues, { source: 'maintenance rule options' });
  const on = (name: string, ...matchers: string[]) => selector(name, [eq('job', job), ...matchers]);
  const window = `${Math.round(2 * intervalHours * 60)}m`;
  const base = (options.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL).replace(/\/+$/, '');
  const labels = { component: 'iceberg-scheduler', tier: 'cold-storage' } as const;
  const [failing, accumulating] = MAINTENANCE_ALERT_NAMES;
  return {
    groups: [
      {
        name: 'iceberg_offload.maintenance',
        rules: [
          {
            alert: failing,
            expr:
              `sum by (table) (increase(${on(M.runsTotal, eq('status', 'failed'))}[${window}])) >= ${failedRuns}` +
              ` unless on (table) (time() - max by (table) (${on(M.lastSuccessTimestamp)}) < ${2 * intervalHours * 3600})`,
            for: '10m',
            labels: { severity: 'warning', ...labels },
            annotations: {
              summary: 'Iceberg maintenance of {{ $labels.table }} keeps failing',
              description: `{{ $value }} maintenance actions of {{ $labels.table }} failed in the last ${window} and none ran clean since; small files and snapshots accumulate.`,
              runbook_url: `${base}/${RUNBOOK}`,
            },
          },
          {
            alert: accumulating,
            expr: `max by (table) (${on(M.tableMaxFilesPerPartition)}) > ${maxFiles}`,
            for: '1h',
            labels: { severity: 'warning', ...labels },
            annotations: {
              summary: 'Data files of {{ $labels.table }} are piling up',
              description: `A partition of {{ $labels.table }} holds {{ $value }} data files (more than ${maxFiles}) after maintenance: compaction is off, failing or not keeping up, and scans slow down.`,
              runbook_url: `${base}/${RUNBOOK}`,
            },
          },
        ],
      },
    ],
  };
}

/** The maintenance alerts as a YAML rule file (a second file under `rule_files`). */
export function renderMaintenanceRules(options: MaintenanceRuleOptions = {}): string {
  return stringify(generateMaintenanceRules(options), { lineWidth: 0 });
}
