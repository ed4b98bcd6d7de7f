import type { ClickHouseClient } from '@clickhouse/client';
import { parseQualifiedName, silentLogger, systemClock } from '@coldtier/offload-core';
import type { Clock, Logger, TableConfig, WatermarkStore } from '@coldtier/offload-core';
import { resolveThresholds } from '../thresholds/index.js';
import type { ThresholdSet } from '../thresholds/index.js';
import { classify, verdictOf } from './classify.js';
import { notOnEmbedded } from './probe.js';
import { cycleDurations, storedCycleDurations, tableDurations } from './steps/durations.js';
import type { CycleSummary } from './steps/durations.js';
import { clickHousePingProbe } from './steps/network.js';
import type { NetworkProbe } from './steps/network.js';
import { network } from './steps/network.js';
import { parts } from './steps/parts.js';
import { queries } from './steps/queries.js';
import { osHostProbe, resources } from './steps/resources.js';
import type { HostProbe } from './steps/resources.js';
import { volume } from './steps/volume.js';
import { watermarks } from './steps/watermarks.js';
import type { DiagnosticReport, DiagnosticSteps, NetworkSample, StepName, StepResult } from './types.js';

/** The runbook reads six hours of volume ("Check ClickHouse data volume trend (last 6 hours)"). */
export const DEFAULT_DIAGNOSTIC_HOURS = 6;

/** The runbook's Scenario 1: "Row counts 2-5x normal". */
export const DEFAULT_SPIKE_RATIO = 2;

export interface DiagnosticsOptions {
  readonly clickhouse: ClickHouseClient;
  /** Run and cycle history and watermarks; only reads. */
  readonly store: Pick<WatermarkStore, 'recentRuns' | 'list' | 'recentCycles'>;
  readonly tables: readonly TableConfig[];
  /** Recent cycles, newest or oldest first, instead of the store's cycle history (`recentCycles`). */
  readonly cycleHistory?: readonly CycleSummary[];
  /**
   * `embedded` for an in-process ClickHouse (chdb): there is no network
   * between it and the offload, and it keeps no query log, so those probes
   * are reported as not available instead of measured. Default `server`.
   */
  readonly engine?: 'server' | 'embedded';
  readonly clock?: Clock;
  /** Hours of volume, run history and query log looked at; default 6. */
  readonly hours?: number;
  /** Defaults to `resolveThresholds()`: the seeds' numbers for a 15-minute schedule. */
  readonly thresholds?: ThresholdSet;
  /** Last hour over the median hour that, with slow runs, counts as a spike; default 2. */
  readonly spikeRatio?: number;
  /** Defaults to this host and process (`node:os`). */
  readonly host?: HostProbe;
  /** Defaults to timing 10 pings of ClickHouse. */
  readonly network?: NetworkProbe;
  /** `database.table` with the columns of `system.query_log` (the default), e.g. a Distributed table over a cluster's logs. */
  readonly queryLog?: string;
  readonly logger?: Logger;
}

/**
 * Performs the performance runbook's diagnosis against the live systems:
 * cycle and table durations (step 1-2), source volume (3), resources (4),
 * network (5), slow queries (6), fragmentation and watermark ages, then
 * classifies the situation into the runbook's scenarios. Never throws for a
 * failing probe: the step reports `unknown` with the reason.
 */
export async function runDiagnostics(options: DiagnosticsOptions): Promise<DiagnosticReport> {
  const { clickhouse, store, tables } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const thresholds = options.thresholds ?? resolveThresholds();
  const hours = options.hours ?? DEFAULT_DIAGNOSTIC_HOURS;
  if (!Number.isInteger(hours) || hours < 1) throw new RangeError(`hours must be a positive integer, got ${hours}`);
  // A misspelt log name is the caller's error, not a probe failure to report as unknown.
  if (options.queryLog !== undefined) parseQualifiedName(options.queryLog);
  const now = clock.now();
  const since = new Date(now.getTime() - hours * 3_600_000);

  const embedded = options.engine === 'embedded';
  // What the engine cannot answer is expected: reported in the step, not warned about.
  const expected = new Set<string>();
  const noQueryLog = embedded && options.queryLog === undefined ? notOnEmbedded('finished queries', 'it keeps no system.query_log') : null;
  if (noQueryLog !== null) expected.add(noQueryLog);

  // Network first, before the heavier queries share the connection.
  const networkStep = embedded && options.network === undefined ? inProcess(expected) : await network(options.network ?? clickHousePingProbe(clickhouse), thresholds);
  const [cycleStep, tableStep, volumeStep, resourceStep, queryStep, partStep, watermarkStep] = await Promise.all([
    options.cycleHistory === undefined ? storedCycleDurations(store, since, hours, thresholds) : cycleDurations(options.cycleHistory, thresholds),
    tableDurations(store, tables, since, thresholds),
    volume(clickhouse, tables, now, hours, thresholds),
    resources(clickhouse, options.host ?? osHostProbe, thresholds),
    queries(clickhouse, tables, since, thresholds, options.queryLog, noQueryLog),
    parts(clickhouse, tables, thresholds),
    watermarks(store, tables, now, thresholds),
  ]);
  const steps: DiagnosticSteps = {
    cycleDurations: cycleStep,
    tableDurations: tableStep,
    volume: volumeStep,
    resources: resourceStep,
    network: networkStep,
    queries: queryStep,
    parts: partStep,
    watermarks: watermarkStep,
  };
  for (const name of Object.keys(steps) as StepName[]) {
    const step = steps[name];
    if (step.reason !== null && !expected.has(step.reason)) logger.warn('diagnostic step could not measure everything', { step: name, status: step.status, reason: step.reason });
  }
  const findings = classify(steps, { tables, thresholds, spikeRatio: options.spikeRatio ?? DEFAULT_SPIKE_RATIO });
  return { generatedAt: now, hours, steps, findings, verdict: verdictOf(findings, steps) };
}

/** Step 5 on an in-process engine: no network path to measure, so no network finding either. */
function inProcess(expected: Set<string>): StepResult<NetworkSample | null> {
  const reason = notOnEmbedded('network', 'ClickHouse runs in this process; there is no network to measure');
  expected.add(reason);
  return { status: 'unknown', reason, evidence: [], data: null };
}
