import { ConfigError } from '@coldtier/offload-core';
import { stringify } from 'yaml';
import { resolveThresholds, type ThresholdSet } from '../thresholds/index.js';
import { alertSpecs, type AlertContext, type Severity } from './alerts.js';
import { eq, ruleWindows, selector } from './promql.js';
import { METRIC_NAMES } from './series.js';

/** What the generated rules depend on; everything has the reference's default. */
export interface RuleOptions {
  /** Minutes between cycles; defaults to the thresholds' schedule, else 15. */
  readonly scheduleMinutes?: number;
  /** Resolved thresholds; default: the catalog for `scheduleMinutes`. */
  readonly thresholds?: ThresholdSet;
  /** Prometheus job scraping the scheduler. Default `iceberg-scheduler`. */
  readonly job?: string;
  /** Where the runbook files live; each alert links `<base>/<runbook>.md`. */
  readonly runbookBaseUrl?: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: Severity; readonly component: string; readonly tier: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup<R> {
  readonly name: string;
  readonly rules: readonly R[];
}

/** A Prometheus rule file. */
export interface PrometheusRules {
  readonly groups: readonly [RuleGroup<RecordingRule>, RuleGroup<AlertingRule>];
}

export const DEFAULT_JOB = 'iceberg-scheduler';
export const DEFAULT_RUNBOOK_BASE_URL = 'docs/runbooks';

/** The reference's recording rule names, a public contract. */
export const RECORDING_RULE_NAMES = [
  'iceberg_offload:cycle_count:5m',
  'iceberg_offload:duration_avg:5m',
  'iceberg_offload:rows_rate:5m',
] as const;

/** The schedule and thresholds the rules are generated for, checked to agree. */
export function resolveRuleInputs(options: RuleOptions): { thresholds: ThresholdSet; job: string } {
  const thresholds = options.thresholds ?? resolveThresholds(options.scheduleMinutes === undefined ? {} : { scheduleMinutes: options.scheduleMinutes });
  if (options.scheduleMinutes !== undefined && options.scheduleMinutes !== thresholds.scheduleMinutes) {
    throw new ConfigError([
      {
        path: 'scheduleMinutes',
        message: `is ${options.scheduleMinutes} but the thresholds were resolved for ${thresholds.scheduleMinutes}; resolve them with the same schedule`,
      },
    ]);
  }
  const job = options.job ?? DEFAULT_JOB;
  if (job === '' || /["\\\n]/.test(job)) {
    throw new ConfigError([{ path: 'job', message: `expected a Prometheus job name, got ${JSON.stringify(job)}` }]);
  }
  return { thresholds, job };
}

/**
 * The reference's recording rules under its names. The windows stay the 5
 * minutes the names promise; the average divides only where a run finished,
 * so between cycles it has no sample rather than NaN.
 */
function recordingRules(job: string): RecordingRule[] {
  const on = (name: string) => selector(name, [eq('job', job)]);
  const [cycleCount, durationAvg, rowsRate] = RECORDING_RULE_NAMES;
  return [
    { record: cycleCount, expr: `sum by (status) (increase(${on(METRIC_NAMES.cyclesTotal)}[5m]))` },
    {
      record: durationAvg,
      expr:
        `sum by (table, layer) (rate(${on(`${METRIC_NAMES.durationSeconds}_sum`)}[5m]))` +
        ` / (sum by (table, layer) (rate(${on(`${METRIC_NAMES.durationSeconds}_count`)}[5m])) > 0)`,
    },
    { record: rowsRate, expr: `sum by (table, layer) (rate(${on(METRIC_NAMES.rowsTotal)}[5m]))` },
  ];
}

/**
 * The reference's alerting and recording rules, generated from the
 * threshold table for one schedule. Returns plain data; `renderPrometheusRules`
 * writes it as a rule file.
 *
 * @throws ConfigError when the schedule and the thresholds disagree, or the job name is unusable.
 */
export function generatePrometheusRules(options: RuleOptions = {}): PrometheusRules {
  const { thresholds, job } = resolveRuleInputs(options);
  const base = (options.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL).replace(/\/+$/, '');
  const context: AlertContext = { thresholds, job, windows: ruleWindows(thresholds.scheduleMinutes) };
  const alerts = alertSpecs(context).map(
    (spec): AlertingRule => ({
      alert: spec.name,
      expr: spec.expr,
      for: spec.for,
      labels: { severity: spec.severity, component: 'iceberg-scheduler', tier: 'cold-storage' },
      annotations: { summary: spec.summary, description: spec.description, runbook_url: `${base}/${spec.runbook}` },
    }),
  );
  return {
    groups: [
      { name: 'iceberg_offload.recording', rules: recordingRules(job) },
      { name: 'iceberg_offload.alerts', rules: alerts },
    ],
  };
}

/** The rules as a YAML rule file for Prometheus' `rule_files`. */
export function renderPrometheusRules(options: RuleOptions = {}): string {
  const header = `# Generated by @coldtier/offload-diagnostics for a ${resolveRuleInputs(options).thresholds.scheduleMinutes}-minute schedule. Do not edit; regenerate.\n`;
  return header + stringify(generatePrometheusRules(options), { lineWidth: 0 });
}

/** Where a `PrometheusRule` resource goes; the rules themselves as for `renderPrometheusRules`. */
export interface PrometheusRuleResourceOptions extends RuleOptions {
  /** `metadata.name`; default `coldtier`. */
  readonly name?: string;
  readonly namespace?: string;
  /** Extra `metadata.labels`, e.g. the label your Prometheus' `ruleSelector` matches. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Groups the resource carries after the offload rules, e.g.
   * `generateMaintenanceRules().groups`: one resource, one `kubectl apply`.
   */
  readonly additionalGroups?: readonly RuleGroup<AlertingRule | RecordingRule>[];
}

/**
 * The same rules as a prometheus-operator `PrometheusRule` resource
 * (`monitoring.coreos.com/v1`), for `kubectl apply`.
 *
 * @throws ConfigError as `generatePrometheusRules`.
 */
export function renderPrometheusRuleResource(options: PrometheusRuleResourceOptions = {}): string {
  const { name = 'coldtier', namespace, labels = {}, additionalGroups = [], ...ruleOptions } = options;
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      labels: { 'app.kubernetes.io/name': 'coldtier', ...labels },
    },
    spec: { groups: [...generatePrometheusRules(ruleOptions).groups, ...additionalGroups] },
  };
  const header = `# Generated by @coldtier/offload-diagnostics (coldtier rules --kubernetes) for a ${resolveRuleInputs(ruleOptions).thresholds.scheduleMinutes}-minute schedule. Do not edit; regenerate.\n`;
  return header + stringify(resource, { lineWidth: 0 });
}
