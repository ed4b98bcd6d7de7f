import type { TableConfig } from '../config/index.js';
import type { Cursor } from '../watermark/cursor.js';
import type { Lease } from '../watermark/store.js';
import type { OffloadWindow } from '../watermark/window.js';

/** One offload of one table's window. */
export interface OffloadJob {
  /** Unique per attempt-series; recorded in run history and (for Iceberg) the snapshot summary. */
  readonly runId: string;
  readonly table: TableConfig;
  readonly window: OffloadWindow;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * The table's lease the orchestrator holds for this run. A runner that
   * advances the watermark itself, in the same database transaction as its
   * commit, fences that write with it.
   */
  readonly lease?: Lease;
}

export interface JobTimings {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationSeconds: number;
}

export interface JobResult {
  readonly rowsWritten: number;
  /** Cursor of the last row actually written; `null` when nothing was written. */
  readonly maxCursor: Cursor | null;
  readonly bytesWritten: number;
  /** Iceberg snapshot id (decimal string, a 64-bit id) if the engine reports it. */
  readonly snapshotId: string | null;
  readonly timings: JobTimings;
}

/**
 * Runs one job. Resolves with the result, or rejects with a `JobFailedError`
 * (classified `timeout | connection | process_error | crash`). When `signal`
 * aborts, the runner stops the job and rejects promptly.
 */
export interface JobRunner {
  run(job: OffloadJob, signal: AbortSignal): Promise<JobResult>;
  /**
   * The cursor of the last row the target already holds from this table's
   * source, as the target itself records it (for Iceberg: the newest
   * `coldtier.watermark` of the table's snapshots for that source), or `null`
   * when it holds none. The orchestrator calls it before planning and
   * fast-forwards the watermark store when the target is ahead, so a crash
   * between the commit and the watermark update never offloads a window
   * twice. Runners whose target keeps no such record omit it.
   */
  committedWatermark?(table: TableConfig, signal: AbortSignal): Promise<Cursor | null>;
}
