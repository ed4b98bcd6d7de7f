import type { TableConfig } from '@coldtier/offload-core';
import type { ThresholdSet } from '../thresholds/index.js';
import {
  fragmentationActions,
  lagActions,
  networkActions,
  resourceActions,
  slowCycleActions,
  slowQueryActions,
  volumeSpikeActions,
} from './actions.js';
import { combine, formatNumber, severityRank } from './grade.js';
import type { DiagnosticSteps, Evidence, Finding, FindingSeverity, Scenario, StepName, TableVolume, Verdict } from './types.js';

/** What classification needs besides the steps' results. */
export interface ClassifyContext {
  readonly tables: readonly TableConfig[];
  readonly thresholds: ThresholdSet;
  /** Last hour over the median hour at which a volume explains slow runs ("row counts 2-5x normal"). */
  readonly spikeRatio: number;
}

function severityOf(evidence: readonly Evidence[]): FindingSeverity {
  return evidence.some((e) => e.level === 'critical') ? 'critical' : 'warning';
}

function message(subject: string, evidence: readonly Evidence[], extra = ''): string {
  return `${subject}: ${evidence.map((e) => e.reason).join('; ')}${extra}`;
}

function finding(scenario: Scenario, table: string | null, msg: string, evidence: readonly Evidence[], actions: readonly string[]): Finding {
  return { scenario, severity: severityOf(evidence), table, message: msg, evidence, actions };
}

function forTable(evidence: readonly Evidence[], table: string): Evidence[] {
  return evidence.filter((e) => e.table === table);
}

/**
 * Relative spike: a table below the absolute bounds whose last hour is
 * `spikeRatio` times its median hour counts as a spike only when runs are
 * slow, the situation Scenario 1 describes ("cycle duration proportional to
 * volume"); on its own, a small table doubling is noise.
 */
function relativeSpike(v: TableVolume, ratio: number, runsSlow: boolean): Evidence | null {
  if (!runsSlow || v.status !== 'ok' || v.ratio === null || v.ratio < ratio) return null;
  return {
    threshold: 'spikeRatio',
    table: v.table,
    value: v.ratio,
    bound: ratio,
    level: 'warning',
    reason: `rows in the last hour of ${v.table} ${formatNumber(v.latestRows ?? 0)} are ${formatNumber(v.ratio)}x the median hour ${formatNumber(v.baselineRows ?? 0)}, at or above ${formatNumber(ratio)}x, while runs are slow`,
  };
}

function volumeFindings(steps: DiagnosticSteps, context: ClassifyContext, config: (name: string) => TableConfig): Finding[] {
  const cyclesSlow = severityRank(steps.cycleDurations.status) >= severityRank('warning');
  return steps.volume.data.flatMap((v) => {
    const tableSlow = steps.tableDurations.data.some((d) => d.table === v.table && severityRank(d.status) >= severityRank('warning'));
    const relative = relativeSpike(v, context.spikeRatio, cyclesSlow || tableSlow);
    const evidence = relative === null ? forTable(steps.volume.evidence, v.table) : [relative];
    if (evidence.length === 0) return [];
    const trend = relative !== null || v.ratio === null ? '' : ` (last hour ${formatNumber(v.latestRows ?? 0)} rows, ${formatNumber(v.ratio)}x the median hour)`;
    const actions = volumeSpikeActions(config(v.table), v.hoursAboveSteadyState, severityOf(evidence) === 'critical', context.thresholds.scheduleMinutes);
    return [finding('volume_spike', v.table, message(`Data volume spike on ${v.source}`, evidence, trend), evidence, actions)];
  });
}

function perTable(
  scenario: Scenario,
  evidence: readonly Evidence[],
  config: (name: string) => TableConfig,
  subject: (table: TableConfig) => string,
  actions: (table: TableConfig) => string[],
): Finding[] {
  const tables = [...new Set(evidence.map((e) => e.table).filter((t): t is string => t !== null))];
  return tables.map((name) => {
    const table = config(name);
    const own = forTable(evidence, name);
    return finding(scenario, name, message(subject(table), own), own, actions(table));
  });
}

function slowCycleFinding(steps: DiagnosticSteps, causes: readonly Scenario[], unknownSteps: readonly StepName[], tableCount: number): Finding | null {
  const evidence = [...steps.cycleDurations.evidence, ...steps.tableDurations.evidence];
  if (evidence.length === 0) return null;
  const slowTables = steps.tableDurations.data.filter((d) => severityRank(d.status) >= severityRank('warning')).map((d) => d.table);
  return finding('slow_cycles', null, message('Offload cycles slow', evidence), evidence, slowCycleActions(slowTables, tableCount, causes, unknownSteps));
}

/** Steps that could not measure. */
export function unknownStepsOf(steps: DiagnosticSteps): StepName[] {
  return (Object.keys(steps) as StepName[]).filter((name) => steps[name].status === 'unknown');
}

/**
 * Turns the steps' crossed bounds into findings, one per scenario and table,
 * most severe first (causes before the symptoms they explain).
 */
export function classify(steps: DiagnosticSteps, context: ClassifyContext): Finding[] {
  const byName = new Map(context.tables.map((t) => [t.name, t]));
  const config = (name: string) => byName.get(name)!;
  const slowSeconds = context.thresholds.get('queryDuration').acceptable ?? 5;
  const causes: Finding[] = [
    ...volumeFindings(steps, context, config),
    ...(steps.resources.evidence.length > 0
      ? [finding('resource_exhaustion', null, message('Resources exhausted', steps.resources.evidence), steps.resources.evidence, resourceActions())]
      : []),
    ...(steps.network.evidence.length > 0
      ? [finding('network', null, message('Network to ClickHouse degraded', steps.network.evidence), steps.network.evidence, networkActions())]
      : []),
    ...perTable('slow_queries', steps.queries.evidence, config, (t) => `Slow ClickHouse queries on ${t.source}`, (t) => slowQueryActions(t, slowSeconds)),
    ...perTable('fragmentation', steps.parts.evidence, config, (t) => `${t.source} is fragmented`, fragmentationActions),
  ];
  const causeScenarios = [...new Set(causes.map((f) => f.scenario))];
  const slow = slowCycleFinding(steps, causeScenarios, unknownStepsOf(steps), context.tables.length);
  const lag = perTable('watermark_lag', steps.watermarks.evidence, config, (t) => `${t.name} is behind`, (t) =>
    lagActions(t.name, steps.watermarks.data.find((w) => w.table === t.name)?.failureCount ?? 0),
  );
  const all = [...causes, ...(slow === null ? [] : [slow]), ...lag];
  // Array.prototype.sort is stable: within a severity the order above (causes first) stays.
  return all.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

/** `healthy` unless a finding was made; unknown steps are listed either way. */
export function verdictOf(findings: readonly Finding[], steps: DiagnosticSteps): Verdict {
  const worst = combine(findings.map((f) => f.severity));
  return {
    status: worst === 'critical' || worst === 'warning' ? worst : 'healthy',
    scenarios: [...new Set(findings.map((f) => f.scenario))],
    unknownSteps: unknownStepsOf(steps),
  };
}
