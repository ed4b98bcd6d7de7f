import { successRateExpr } from '../rules/alerts.js';
import { resolveRuleInputs, type RuleOptions } from '../rules/generate.js';
import { durationForVolumeExpr, eq, promDuration, ruleWindows, selector } from '../rules/promql.js';
import { METRIC_NAMES } from '../rules/series.js';
import type { ThresholdId, ThresholdSet } from '../thresholds/index.js';
import { layOut, thresholdSteps, type Panel, type PanelSpec } from './panels.js';

/** The dashboard's identity, kept from the reference so links keep working. */
export const DASHBOARD_UID = 'iceberg-offload';
export const DASHBOARD_TITLE = 'Iceberg Offload Pipeline';

/** Same inputs as the rules, so panels and alerts share thresholds and windows. */
export type DashboardOptions = Omit<RuleOptions, 'runbookBaseUrl'>;

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly timezone: string;
  readonly editable: boolean;
  readonly schemaVersion: number;
  readonly version: number;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: { readonly list: readonly Record<string, unknown>[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly panels: readonly Panel[];
}

const bars = (stacking: 'none' | 'normal') => ({
  custom: { drawStyle: 'bars', fillOpacity: 80, stacking: { mode: stacking, group: 'A' }, thresholdsStyle: { mode: 'off' } },
});
const lines = (thresholdsStyle: 'off' | 'line' | 'dashed') => ({
  custom: { drawStyle: 'line', lineWidth: 2, fillOpacity: 10, thresholdsStyle: { mode: thresholdsStyle } },
});
const statusColour = (status: string, color: string) => ({
  matcher: { id: 'byName', options: status },
  properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }],
});

/**
 * Grafana field overrides colouring each table with a per-table threshold by
 * its own bounds; the panel's series must be named by `{{table}}` alone.
 */
function perTableSteps(set: ThresholdSet, id: ThresholdId): unknown[] {
  return set.overriddenTables(id).map((table) => ({
    matcher: { id: 'byName', options: table },
    properties: [{ id: 'thresholds', value: { mode: 'absolute', steps: thresholdSteps(set.get(id, table)) } }],
  }));
}

const plain = [{ color: 'green', value: null }] as const;

/**
 * The monitoring guide's nine panels in its order, plus the batch duration
 * against the guide's targets for its volume, which the throughput alert
 * reads, then Coldtier's TTL headroom. Rows/s panels carry no thresholds: a small batch is never fast in
 * rows/s, so colouring it would cry wolf.
 */
function panelSpecs(set: ThresholdSet, job: string): PanelSpec[] {
  const on = (name: string, ...matchers: readonly string[]) => selector(name, [eq('job', job), ...matchers]);
  const windows = ruleWindows(set.scheduleMinutes);
  const interval = promDuration(set.scheduleMinutes);
  const durations = (suffix: string) => `sum by (table) (increase(${on(`${METRIC_NAMES.durationSeconds}_${suffix}`)}[${windows.dashboard}]))`;
  return [
    {
      type: 'gauge',
      title: 'Offload Lag',
      description: 'Minutes since each table was last offloaded successfully.',
      unit: 'm',
      steps: thresholdSteps(set.get('lag')),
      queries: [{ expr: `max by (table) (${on(METRIC_NAMES.lagMinutes)})`, legend: '{{table}}' }],
      overrides: perTableSteps(set, 'lag'),
      width: 8,
      height: 6,
      defaults: { min: 0, max: 2 * (set.get('lag').critical ?? 30) },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, showThresholdMarkers: true },
    },
    {
      type: 'stat',
      title: `Success Rate (${windows.successRate})`,
      description: `Share of cycles with status success over two schedule intervals (${windows.successRate}); empty while no cycle finished.`,
      unit: 'percent',
      steps: thresholdSteps(set.get('successRate')),
      queries: [{ expr: successRateExpr({ job, windows }), legend: 'success rate' }],
      width: 8,
      height: 6,
      defaults: { min: 0, max: 100, decimals: 1 },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background' },
    },
    {
      type: 'stat',
      title: 'Configured Tables',
      description: 'Tables configured for offload; a sudden change means a configuration change.',
      unit: 'none',
      steps: plain,
      queries: [{ expr: `max(${on(METRIC_NAMES.tablesConfigured)})`, legend: 'tables' }],
      width: 8,
      height: 6,
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' },
    },
    {
      type: 'timeseries',
      title: 'Offload Rate (rows/second)',
      description: "Throughput of each table's last offload that wrote rows; it holds between cycles. Judged by duration for its volume, below.",
      unit: 'rowsps',
      steps: plain,
      queries: [{ expr: `max by (table) (${on(METRIC_NAMES.lastRowsPerSecond)})`, legend: '{{table}}' }],
      width: 12,
      height: 8,
      defaults: lines('off'),
    },
    {
      type: 'timeseries',
      title: 'Offload Duration (last, mean)',
      description:
        `Job duration of each table's last offload that wrote rows, and the mean of every offload over ${windows.dashboard}, failed runs included. ` +
        'Exact values: quantiles of the coarse histogram buckets would only interpolate the bucket bounds.',
      unit: 's',
      steps: thresholdSteps(set.get('tableDuration')),
      queries: [
        { expr: `max by (table) (${on(METRIC_NAMES.lastBatchDurationSeconds)})`, legend: 'last {{table}}' },
        { expr: `${durations('sum')} / (${durations('count')} > 0)`, legend: 'mean {{table}}' },
      ],
      width: 12,
      height: 8,
      defaults: lines('dashed'),
    },
    {
      type: 'timeseries',
      title: 'Duration for Volume (% of acceptable)',
      description:
        "Each table's last productive batch as a percentage of the guide's maximum acceptable duration for its row count " +
        '(10K rows 30 s, 100K 60 s, 1M 5 min, 10M 10 min); IcebergOffloadThroughputLow fires above the warning line.',
      unit: 'percent',
      steps: thresholdSteps(set.get('durationForVolume')),
      queries: [
        {
          expr: durationForVolumeExpr(on(METRIC_NAMES.lastBatchDurationSeconds), on(METRIC_NAMES.lastBatchRows)),
          legend: '{{table}}',
        },
      ],
      overrides: perTableSteps(set, 'durationForVolume'),
      width: 12,
      height: 8,
      defaults: { ...lines('dashed'), min: 0 },
    },
    {
      type: 'timeseries',
      title: `Cycle Duration (${set.scheduleMinutes}-min target)`,
      description: 'Duration of the last finished cycle, coloured by the cycle thresholds.',
      unit: 's',
      steps: thresholdSteps(set.get('cycleDuration')),
      queries: [{ expr: `max(${on(METRIC_NAMES.lastCycleDurationSeconds)})`, legend: 'last cycle' }],
      width: 12,
      height: 8,
      defaults: { ...bars('none'), color: { mode: 'thresholds' } },
    },
    {
      type: 'timeseries',
      title: 'Error Rate (errors/minute)',
      description: `Failed offload attempts per minute by table and error type, over ${windows.dashboard}.`,
      unit: 'short',
      steps: thresholdSteps(set.get('errorRate')),
      queries: [
        {
          expr: `sum by (table, error_type) (rate(${on(METRIC_NAMES.errorsTotal)}[${windows.dashboard}])) * 60`,
          legend: '{{table}} {{error_type}}',
        },
      ],
      width: 12,
      height: 8,
      defaults: lines('dashed'),
    },
    {
      type: 'timeseries',
      title: 'Throughput Quantiles (p50, p90, p99)',
      description: 'Rows per second of productive runs, summary quantiles per table.',
      unit: 'rowsps',
      steps: plain,
      queries: [
        {
          expr: `max by (table, quantile) (${on(METRIC_NAMES.rowsPerSecond, 'quantile=~"0.5|0.9|0.99"')})`,
          legend: '{{table}} q{{quantile}}',
        },
      ],
      width: 12,
      height: 8,
      defaults: lines('off'),
    },
    {
      type: 'timeseries',
      title: 'Cycle Status Distribution',
      description: `Cycles per status, one bar per schedule interval (${interval}).`,
      unit: 'short',
      steps: plain,
      // increase() extrapolates to the window's edges (1 cycle reads 1.02); cycles are whole.
      queries: [{ expr: `round(sum by (status) (increase(${on(METRIC_NAMES.cyclesTotal)}[${interval}])))`, legend: '{{status}}', interval }],
      width: 24,
      height: 8,
      defaults: bars('normal'),
      overrides: [statusColour('success', 'green'), statusColour('partial', 'yellow'), statusColour('failed', 'red')],
    },
    {
      type: 'timeseries',
      title: 'TTL Headroom',
      description: 'Time until ClickHouse may delete, by its row TTL, the oldest row not yet in Iceberg; no line for tables without TTL or with nothing waiting.',
      unit: 's',
      steps: thresholdSteps(set.get('ttlHeadroom')),
      // +Inf (nothing waiting) cannot be drawn; such a table simply has no point.
      queries: [{ expr: `min by (table) (${on(METRIC_NAMES.ttlHeadroomSeconds)} < +Inf)`, legend: '{{table}}' }],
      width: 24,
      height: 8,
      defaults: { ...lines('dashed'), min: 0 },
    },
  ];
}

/**
 * The reference's "Iceberg Offload Pipeline" dashboard (uid `iceberg-offload`)
 * with the guide's panels, thresholds from the threshold table the alerts
 * use (per-table overrides included) and
 * queries over series the exporter produces, on a `${DS_PROMETHEUS}`
 * datasource variable.
 *
 * @throws ConfigError when the schedule and the thresholds disagree, or the job name is unusable.
 */
export function generateGrafanaDashboard(options: DashboardOptions = {}): GrafanaDashboard {
  const { thresholds, job } = resolveRuleInputs(options);
  return {
    uid: DASHBOARD_UID,
    title: DASHBOARD_TITLE,
    description: `Coldtier offload to Iceberg, ${thresholds.scheduleMinutes}-minute schedule. Generated by @coldtier/offload-diagnostics.`,
    tags: ['coldtier', 'iceberg', 'offload'],
    timezone: 'browser',
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0, current: {} }],
    },
    annotations: { list: [] },
    panels: layOut(panelSpecs(thresholds, job)),
  };
}

/** The dashboard as JSON for Grafana provisioning or import. */
export function renderGrafanaDashboard(options: DashboardOptions = {}): string {
  return `${JSON.stringify(generateGrafanaDashboard(options), null, 2)}\n`;
}
