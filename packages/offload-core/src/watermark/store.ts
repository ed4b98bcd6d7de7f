import type { CycleStatus } from '../cycle/report.js';
import type { JobErrorType } from '../errors.js';
import type { Cursor } from './cursor.js';
import type { OffloadWindow } from './window.js';

/** The reference's status values of `offload_watermarks.status`. */
export type WatermarkStatus = 'initialized' | 'running' | 'success' | 'failed';

/** One table's row of the watermark store. */
export interface WatermarkState {
  readonly table: string;
  readonly cursor: Cursor;
  readonly status: WatermarkStatus;
  /** Rows written by the last successful run. */
  readonly lastRowCount: number;
  readonly lastSuccessfulRunAt: Date | null;
  readonly lastRunDurationSeconds: number | null;
  /** Consecutive failures, reset by a success. */
  readonly failureCount: number;
  /** Last error, truncated to 1000 characters. */
  readonly lastErrorMessage: string | null;
  /** When the cursor last moved forward. */
  readonly advancedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Exclusive right to offload one table. `token` is a fencing token: it grows
 * with every acquisition, and writes made with an older token are refused.
 */
export interface Lease {
  readonly table: string;
  readonly owner: string;
  readonly token: bigint;
  readonly expiresAt: Date;
}

export type RunOutcome = 'running' | 'success' | 'failed' | 'abandoned';

/** One row of the per-run history. */
export interface RunRecord {
  readonly runId: string;
  readonly table: string;
  readonly window: OffloadWindow;
  readonly outcome: RunOutcome;
  readonly rows: number | null;
  readonly errorType: JobErrorType | null;
  readonly errorMessage: string | null;
  readonly snapshotId: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
}

export interface RunStart {
  readonly runId: string;
  readonly window: OffloadWindow;
}

export interface RunSuccess {
  readonly runId: string;
  /** The window the run planned; its `after` must still be the stored cursor. */
  readonly window: OffloadWindow;
  /** Cursor of the last row written; `null` when the window was empty (the watermark stays). */
  readonly cursor: Cursor | null;
  readonly rows: number;
  readonly durationSeconds: number;
  readonly snapshotId: string | null;
}

export interface RunFailure {
  readonly runId: string;
  readonly errorType: JobErrorType;
  readonly message: string;
  readonly durationSeconds: number;
}

/** One finished cycle, as `CycleOrchestrator` records it (`cycleRecordOf` of its report). */
export interface CycleRecord {
  readonly cycleId: string;
  readonly status: CycleStatus;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationSeconds: number;
  readonly totalRows: number;
  readonly tablesSucceeded: number;
  readonly tablesFailed: number;
  readonly tablesSkipped: number;
}

export interface CycleQuery {
  /** Cycles started at or after this instant. */
  readonly since?: Date;
  readonly limit?: number;
}

export interface RunQuery {
  readonly table?: string;
  /** Runs started at or after this instant. */
  readonly since?: Date;
  readonly limit?: number;
}

export interface AcquireLeaseOptions {
  /** An owner known to be dead whose live lease may be taken over. */
  readonly takeOverFrom?: string;
}

/**
 * Where watermarks, leases and run history live. Implementations:
 * `PostgresWatermarkStore` (production) and `InMemoryWatermarkStore`
 * (`@coldtier/offload-core/testing`); one conformance suite runs against both.
 */
export interface WatermarkStore {
  /** Registers tables that have no row yet, at the initial watermark. Idempotent. */
  ensureTables(tables: readonly string[]): Promise<void>;
  get(table: string): Promise<WatermarkState | undefined>;
  list(): Promise<readonly WatermarkState[]>;

  /**
   * Takes the table's lease or throws `LeaseUnavailableError` (with the
   * holder and its expiry) if another live lease holds it. With
   * `options.takeOverFrom`, a live lease held by exactly that owner is taken
   * over too: the caller has proven that owner dead (same host, process
   * gone). The token still grows, so the dead owner's writes stay fenced.
   */
  acquireLease(table: string, owner: string, ttlMs: number, options?: AcquireLeaseOptions): Promise<Lease>;
  /** Extends a lease still held; throws `LeaseUnavailableError` if it was lost. */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives the lease up; a no-op if it was already taken over. */
  releaseLease(lease: Lease): Promise<void>;

  /** Marks the table `running` and records the run in the history. Requires the current lease. */
  startRun(lease: Lease, run: RunStart): Promise<void>;
  /**
   * Compare-and-set: moves the cursor from `run.window.after` to `run.cursor`.
   * Throws `WatermarkConflictError` if the stored cursor is no longer
   * `window.after`, if the new cursor is not after it, or if the lease was lost.
   */
  completeRun(lease: Lease, run: RunSuccess): Promise<WatermarkState>;
  /** Records a failure: status `failed`, failure count + 1, error message; the cursor stays. */
  failRun(lease: Lease, run: RunFailure): Promise<void>;

  /**
   * Moves a table's cursor forward to `cursor` if it is behind (never back).
   * Used when the Iceberg table proves rows up to `cursor` were committed.
   * Returns true if the cursor moved.
   */
  fastForward(table: string, cursor: Cursor): Promise<boolean>;
  /**
   * Resets `running` rows not updated for `olderThanMs` to `failed` and marks
   * their open runs `abandoned`. Returns the tables reset.
   */
  recoverStaleRuns(olderThanMs: number): Promise<readonly string[]>;
  /** Run history, newest first. */
  recentRuns(query?: RunQuery): Promise<readonly RunRecord[]>;

  /** Adds a finished cycle to the cycle history; recording the same `cycleId` again changes nothing. */
  recordCycle(cycle: CycleRecord): Promise<void>;
  /** Cycle history, newest first: what `coldtier diagnose` reads cycle durations from. */
  recentCycles(query?: CycleQuery): Promise<readonly CycleRecord[]>;
}
