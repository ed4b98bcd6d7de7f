import type { TableConfig } from '../config/index.js';
import type { OffloadEvent, OffloadEvents } from '../cycle/events.js';
import { formatLimit } from '../runner/classify.js';
import { formatCursor } from '../watermark/cursor.js';
import type { Logger } from '../logger.js';

const count = new Intl.NumberFormat('en-US');
const seconds = (s: number) => `${s.toFixed(1)}s`;

/**
 * Turns orchestrator events into the log lines operators of the original
 * scheduler grep for (`OFFLOAD CYCLE STARTED`, `✓ Offload completed: …`,
 * `Success: 2, Failed: 0, Timeout: 0`, …), with structured fields alongside.
 * Returns the unsubscribe function.
 */
export function logOffloadEvents(events: OffloadEvents, logger: Logger, tables: readonly TableConfig[]): () => void {
  const timeouts = new Map(tables.map((t) => [t.name, t.timeoutSeconds]));
  return events.subscribe((event) => logEvent(event, logger, timeouts));
}

function logEvent(event: OffloadEvent, logger: Logger, timeouts: ReadonlyMap<string, number>): void {
  switch (event.type) {
    case 'cycle_started':
      logger.info('OFFLOAD CYCLE STARTED', { cycleId: event.cycleId, tables: event.tables });
      return;
    case 'table_started':
      logger.info(`Offloading ${event.table} after ${formatCursor(event.window.after)}`, {
        table: event.table,
        runId: event.runId,
        attempt: event.attempt,
      });
      return;
    case 'table_succeeded':
      logger.info(`Rows offloaded: ${event.result.rowsWritten}`, { table: event.table, runId: event.runId });
      logger.info(
        `✓ Offload completed: ${event.table} (${count.format(event.result.rowsWritten)} rows in ${seconds(event.durationSeconds)})`,
        { table: event.table, layer: event.layer, rows: event.result.rowsWritten, snapshotId: event.result.snapshotId, watermark: formatCursor(event.watermark) },
      );
      return;
    case 'table_retrying':
      logger.warn(`Offload attempt ${event.attempt} failed for ${event.table} (${event.errorType}), retrying in ${seconds(event.delayMs / 1000)}: ${event.message}`, {
        table: event.table,
        errorType: event.errorType,
      });
      return;
    case 'table_failed':
      if (event.errorType === 'timeout') {
        logger.error(`✗ Offload timeout: ${event.table} (>${formatLimit(timeouts.get(event.table) ?? 600)})`, {
          table: event.table,
          message: event.message,
        });
      } else {
        logger.error(`✗ Offload failed: ${event.table}`, { table: event.table, errorType: event.errorType, message: event.message });
      }
      return;
    case 'table_skipped':
      logger.warn(`Offload skipped: ${event.table} (${event.reason}: ${event.detail})`, { table: event.table, reason: event.reason });
      return;
    case 'cycle_finished': {
      const { report } = event;
      const timedOut = report.tables.filter((t) => t.status === 'failed' && t.errorType === 'timeout').length;
      const failed = report.tables.filter((t) => t.status === 'failed').length - timedOut;
      const succeeded = report.tables.filter((t) => t.status === 'success').length;
      logger.info('OFFLOAD CYCLE COMPLETED', { cycleId: report.cycleId, status: report.status });
      logger.info(`Duration: ${seconds(report.durationSeconds)}`);
      logger.info(`Success: ${succeeded}, Failed: ${failed}, Timeout: ${timedOut}`);
      logger.info(`Total rows offloaded: ${report.totalRows}`);
      return;
    }
  }
}
