import { compareCursors } from '@coldtier/offload-core';
import type { CycleReport, OffloadEvent, OffloadEvents } from '@coldtier/offload-core';
import type { OffloadMetrics } from './metrics.js';

type EventOf<T extends OffloadEvent['type']> = Extract<OffloadEvent, { type: T }>;

const unixSeconds = (at: Date): number => at.getTime() / 1000;

/**
 * Throughput is the job's own speed (its timings), not the wall time across
 * retries. A run that wrote nothing has no throughput: observing 0 would drag
 * the quantiles down and fire throughput alerts on quiet sources.
 */
function recordSuccess(metrics: OffloadMetrics, event: EventOf<'table_succeeded'>): void {
  const { table, layer, result } = event;
  metrics.rowsTotal.inc({ table, layer }, result.rowsWritten);
  metrics.durationSeconds.observe({ table, layer }, event.durationSeconds);
  const seconds = result.timings.durationSeconds > 0 ? result.timings.durationSeconds : event.durationSeconds;
  if (result.rowsWritten > 0 && seconds > 0) {
    const rate = result.rowsWritten / seconds;
    metrics.rowsPerSecond.observe({ table }, rate);
    metrics.lastRowsPerSecond.set({ table }, rate);
    metrics.lastBatchRows.set({ table }, result.rowsWritten);
    metrics.lastBatchDurationSeconds.set({ table }, seconds);
  }
  metrics.freshness.recordSuccess(table, event.at, compareCursors(event.watermark, event.window.after) > 0);
}

function recordCycle(metrics: OffloadMetrics, report: CycleReport): void {
  metrics.cyclesTotal.inc({ status: report.status });
  metrics.cycleDurationSeconds.observe(report.durationSeconds);
  metrics.lastCycleDurationSeconds.set(report.durationSeconds);
  const finished = unixSeconds(report.finishedAt);
  if (report.status === 'success') metrics.lastSuccessTimestamp.set(finished);
  else metrics.lastFailureTimestamp.set(finished);
}

/**
 * Records the orchestrator's events into `metrics`; returns the unsubscribe.
 *
 * `offload_errors_total` counts failed attempts: each retried attempt and the
 * final failure, so a flaky connection that recovers on retry still shows.
 * Skipped tables are not errors; they show in the cycle's status.
 */
export function recordOffloadEvents(metrics: OffloadMetrics, events: OffloadEvents): () => void {
  return events.subscribe((event) => {
    switch (event.type) {
      case 'table_succeeded':
        recordSuccess(metrics, event);
        break;
      case 'table_retrying':
        metrics.errorsTotal.inc({ table: event.table, error_type: event.errorType });
        break;
      case 'table_failed':
        metrics.errorsTotal.inc({ table: event.table, error_type: event.errorType });
        metrics.durationSeconds.observe({ table: event.table, layer: event.layer }, event.durationSeconds);
        break;
      case 'cycle_finished':
        recordCycle(metrics, event.report);
        break;
      case 'cycle_started':
      case 'table_started':
      case 'table_skipped':
        break;
    }
  });
}
