import type { Layer } from '../config/index.js';
import type { JobErrorType } from '../errors.js';
import type { Cursor } from '../watermark/cursor.js';
import type { CycleRecord } from '../watermark/store.js';
import type { OffloadWindow } from '../watermark/window.js';

/** The reference's cycle status: all tables ok, some ok, none ok. */
export type CycleStatus = 'success' | 'partial' | 'failed';

/**
 * Why a table was not run this cycle.
 * - `dependency_failed`: a table it depends on failed or was skipped.
 * - `lease_held`: another run (another cycle or scheduler) is offloading it.
 * - `deadline`: the cycle deadline passed before it could start.
 * - `aborted`: the cycle was aborted (shutdown) before it could start.
 */
export type SkipReason = 'dependency_failed' | 'lease_held' | 'deadline' | 'aborted';

interface OutcomeBase {
  readonly table: string;
  readonly layer: Layer;
}

export interface TableSucceeded extends OutcomeBase {
  readonly status: 'success';
  readonly runId: string;
  readonly window: OffloadWindow;
  readonly rows: number;
  readonly bytes: number;
  /** The watermark after the run (unchanged when the window was empty). */
  readonly watermark: Cursor;
  readonly snapshotId: string | null;
  readonly attempts: number;
  readonly durationSeconds: number;
}

export interface TableFailed extends OutcomeBase {
  readonly status: 'failed';
  readonly runId: string;
  readonly window: OffloadWindow | null;
  readonly errorType: JobErrorType;
  readonly message: string;
  readonly attempts: number;
  readonly durationSeconds: number;
}

export interface TableSkipped extends OutcomeBase {
  readonly status: 'skipped';
  readonly reason: SkipReason;
  readonly detail: string;
}

export type TableOutcome = TableSucceeded | TableFailed | TableSkipped;

export interface CycleReport {
  readonly cycleId: string;
  readonly status: CycleStatus;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationSeconds: number;
  /** One outcome per configured table, in configuration order. */
  readonly tables: readonly TableOutcome[];
  readonly totalRows: number;
}

/** What the store's cycle history keeps of a report. */
export function cycleRecordOf(report: CycleReport): CycleRecord {
  const count = (status: TableOutcome['status']) => report.tables.filter((t) => t.status === status).length;
  return {
    cycleId: report.cycleId,
    status: report.status,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationSeconds: report.durationSeconds,
    totalRows: report.totalRows,
    tablesSucceeded: count('success'),
    tablesFailed: count('failed'),
    tablesSkipped: count('skipped'),
  };
}
