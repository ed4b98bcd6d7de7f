import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { JobFailedError } from '../errors.js';
import type { JobErrorType } from '../errors.js';
import type { JobResult, JobRunner, OffloadJob } from '../runner/contract.js';
import { compareCursors } from '../watermark/cursor.js';
import type { Cursor } from '../watermark/cursor.js';
import type { OffloadWindow } from '../watermark/window.js';

/**
 * One step of a table's script. Each `run` call (one attempt) plays steps
 * until a final one: `delay` and `wait` pause the attempt and go on with the
 * next step; `succeed`, `offload`, `fail` and `hang` end it.
 */
export type ScriptStep =
  /** Resolve with these numbers; nothing is read from the source. */
  | {
      readonly kind: 'succeed';
      readonly rows?: number;
      readonly maxCursor?: Cursor | null;
      readonly bytes?: number;
      readonly snapshotId?: string | null;
    }
  /** Copy the source's rows in the job's window to its committed rows and resolve with their count and last cursor. */
  | { readonly kind: 'offload' }
  /** Reject with a `JobFailedError` of this type (retryable as `JobFailedError` decides unless given). */
  | { readonly kind: 'fail'; readonly errorType: JobErrorType; readonly retryable?: boolean; readonly message?: string }
  /** Never finish; reject only when the job's signal aborts. */
  | { readonly kind: 'hang' }
  /** Pause `ms` milliseconds (abortable), then play the next step. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Pause until `until` settles (abortable), then play the next step: a gate the test opens. */
  | { readonly kind: 'wait'; readonly until: PromiseLike<unknown> };

/** A promise a test settles when it chooses; pass `opened` to a `wait` step. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function createGate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A row of the in-memory source, identified by its cursor. */
export interface SourceRow {
  readonly cursor: Cursor;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** A source row as a job committed it. */
export interface CommittedRow extends SourceRow {
  readonly runId: string;
}

/**
 * Per-table rows to offload, the rows jobs committed, and how many jobs of a
 * table ran at once. Share one between several runners (several schedulers)
 * to check that each row is offloaded exactly once overall.
 */
export class InMemorySource {
  readonly #rows = new Map<string, SourceRow[]>();
  readonly #committed = new Map<string, CommittedRow[]>();
  readonly #active = new Map<string, number>();
  readonly #maxActive = new Map<string, number>();

  constructor(rows: Readonly<Record<string, readonly SourceRow[]>> = {}) {
    for (const [table, list] of Object.entries(rows)) this.append(table, list);
  }

  /** Adds rows to a table, as late-arriving data would. */
  append(table: string, rows: readonly SourceRow[]): void {
    this.#rows.set(table, [...(this.#rows.get(table) ?? []), ...rows]);
  }

  rows(table: string): readonly SourceRow[] {
    return this.#rows.get(table) ?? [];
  }

  /** The rows of `window`, in cursor order. */
  select(table: string, window: OffloadWindow): SourceRow[] {
    return this.rows(table)
      .filter((r) => compareCursors(r.cursor, window.after) > 0 && r.cursor.timestampMicros <= window.untilMicros)
      .sort((a, b) => compareCursors(a.cursor, b.cursor));
  }

  /** Rows committed by jobs, in commit order (a row committed twice appears twice). */
  committed(table: string): readonly CommittedRow[] {
    return this.#committed.get(table) ?? [];
  }

  /** Most jobs of `table` that were running at the same moment. */
  maxConcurrentJobs(table: string): number {
    return this.#maxActive.get(table) ?? 0;
  }

  /** @internal Called by the runner. */
  commit(table: string, runId: string, rows: readonly SourceRow[]): void {
    this.#committed.set(table, [...this.committed(table), ...rows.map((r) => ({ ...r, runId }))]);
  }

  /** @internal Called by the runner around every job. */
  enter(table: string): void {
    const active = (this.#active.get(table) ?? 0) + 1;
    this.#active.set(table, active);
    this.#maxActive.set(table, Math.max(active, this.maxConcurrentJobs(table)));
  }

  /** @internal */
  leave(table: string): void {
    this.#active.set(table, (this.#active.get(table) ?? 1) - 1);
  }
}

/** A job as the runner received it, and how it ended. */
export interface RecordedJob {
  readonly table: string;
  readonly runId: string;
  readonly window: OffloadWindow;
  readonly attempt: number;
  /** `running` until the attempt settles; `aborted` if its signal aborted first. */
  readonly outcome: 'running' | 'succeeded' | 'failed' | 'aborted';
}

type MutableJob = { -readonly [K in keyof RecordedJob]: RecordedJob[K] };

export interface ScriptedJobRunnerOptions {
  /** Steps per table name, played in order across attempts and cycles. */
  readonly scripts?: Readonly<Record<string, readonly ScriptStep[]>>;
  /**
   * Steps played for every attempt once a table's script is used up.
   * Default: `offload` when a source is given, else a `crash` failure saying
   * the script ran out.
   */
  readonly otherwise?: readonly ScriptStep[];
  readonly source?: InMemorySource;
  readonly clock?: Clock;
}

/**
 * A `JobRunner` for tests and consumers' CI: plays a per-table script of
 * steps instead of running Spark or ClickHouse, records every job it
 * receives and honours abort signals.
 */
export class ScriptedJobRunner implements JobRunner {
  readonly #scripts: Map<string, ScriptStep[]>;
  readonly #otherwise: readonly ScriptStep[] | undefined;
  readonly #source: InMemorySource | undefined;
  readonly #clock: Clock;
  readonly #jobs: MutableJob[] = [];

  constructor(options: ScriptedJobRunnerOptions = {}) {
    this.#scripts = new Map(Object.entries(options.scripts ?? {}).map(([table, steps]) => [table, [...steps]]));
    this.#source = options.source;
    this.#otherwise = options.otherwise ?? (options.source ? [{ kind: 'offload' }] : undefined);
    this.#clock = options.clock ?? systemClock;
  }

  /** Every job received, in arrival order. */
  get jobs(): readonly RecordedJob[] {
    return this.#jobs;
  }

  jobsFor(table: string): readonly RecordedJob[] {
    return this.#jobs.filter((j) => j.table === table);
  }

  /** Appends steps to a table's script. */
  script(table: string, ...steps: ScriptStep[]): void {
    this.#scripts.set(table, [...(this.#scripts.get(table) ?? []), ...steps]);
  }

  async run(job: OffloadJob, signal: AbortSignal): Promise<JobResult> {
    const table = job.table.name;
    const record: MutableJob = { table, runId: job.runId, window: job.window, attempt: job.attempt, outcome: 'running' };
    this.#jobs.push(record);
    const startedAt = this.#clock.now();
    this.#source?.enter(table);
    try {
      const result = await this.#play(job, signal, startedAt);
      record.outcome = 'succeeded';
      return result;
    } catch (error) {
      record.outcome = signal.aborted ? 'aborted' : 'failed';
      throw error;
    } finally {
      this.#source?.leave(table);
    }
  }

  async #play(job: OffloadJob, signal: AbortSignal, startedAt: Date): Promise<JobResult> {
    const table = job.table.name;
    for (;;) {
      if (signal.aborted) throw aborted(table, signal);
      const step = this.#nextStep(table);
      switch (step.kind) {
        case 'delay':
          await untilAborted(table, signal, new Promise((resolve) => setTimeout(resolve, step.ms)));
          continue;
        case 'wait':
          await untilAborted(table, signal, Promise.resolve(step.until));
          continue;
        case 'hang':
          await untilAborted(table, signal, new Promise(() => {}));
          continue;
        case 'fail':
          throw new JobFailedError(table, step.errorType, step.message ?? `scripted ${step.errorType} failure`, retryOption(step.retryable));
        case 'succeed':
          return this.#result(startedAt, step.rows ?? 0, step.maxCursor ?? null, step.bytes ?? 0, step.snapshotId ?? null);
        case 'offload': {
          if (!this.#source) throw new JobFailedError(table, 'crash', 'scripted offload step without a source');
          const rows = this.#source.select(table, job.window);
          this.#source.commit(table, job.runId, rows);
          return this.#result(startedAt, rows.length, rows.at(-1)?.cursor ?? null, 0, null);
        }
      }
    }
  }

  #nextStep(table: string): ScriptStep {
    const next = this.#scripts.get(table)?.shift();
    if (next) return next;
    if (!this.#otherwise?.length) return { kind: 'fail', errorType: 'crash', retryable: false, message: `no script step left for table ${table}` };
    // Replay the fallback within this attempt, one step at a time.
    this.#scripts.set(table, this.#otherwise.slice(1));
    return this.#otherwise[0]!;
  }

  #result(startedAt: Date, rows: number, maxCursor: Cursor | null, bytes: number, snapshotId: string | null): JobResult {
    const finishedAt = this.#clock.now();
    const durationSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
    return { rowsWritten: rows, maxCursor, bytesWritten: bytes, snapshotId, timings: { startedAt, finishedAt, durationSeconds } };
  }
}

function retryOption(retryable: boolean | undefined): { retryable?: boolean } {
  return retryable === undefined ? {} : { retryable };
}

function aborted(table: string, signal: AbortSignal): JobFailedError {
  return new JobFailedError(table, 'timeout', `job stopped: ${String(signal.reason)}`, { retryable: false, cause: signal.reason });
}

/** Waits for `work`, or rejects as soon as the signal aborts. */
function untilAborted<T>(table: string, signal: AbortSignal, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(table, signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
