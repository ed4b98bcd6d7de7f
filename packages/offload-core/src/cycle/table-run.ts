import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import type { RetryPolicy, TableConfig } from '../config/index.js';
import { LeaseUnavailableError, errorTypeOf, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JobResult, JobRunner, OffloadJob } from '../runner/contract.js';
import { INITIAL_CURSOR, formatCursor } from '../watermark/cursor.js';
import type { Lease, WatermarkStore } from '../watermark/store.js';
import type { OffloadWindow } from '../watermark/window.js';
import type { OffloadEvents } from './events.js';
import { LeaseKeeper } from './lease.js';
import { planWindow } from './plan.js';
import type { SkipReason, TableFailed, TableOutcome, TableSkipped, TableSucceeded } from './report.js';
import { backoffDelayMs, isRetryable } from './retry.js';
import type { Sleep } from './retry.js';
import { CycleStop, follow, stopOf, stoppedFailure } from './stop.js';

/** What one cycle shares with the runs of its tables. */
export interface CycleContext {
  readonly cycleId: string;
  readonly store: WatermarkStore;
  readonly runner: JobRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: OffloadEvents;
  readonly retry: RetryPolicy;
  readonly lateDataBufferMinutes: number;
  readonly leaseOwner: string;
  readonly leaseTtlMs: number;
  readonly isOwnerGone: (owner: string) => boolean;
  readonly newRunId: () => string;
  readonly sleep: Sleep;
  readonly random: () => number;
  /** Cycle deadline, in the clock's milliseconds. */
  readonly deadlineAt: number;
  /** Aborts (with a `CycleStop`) at the deadline or when the caller aborts. */
  readonly signal: AbortSignal;
  /** Once aborted, tables not yet started are skipped; running ones go on. */
  readonly drain: AbortSignal | undefined;
  /** Upper bound of every window this cycle, besides `now - buffer`. */
  readonly windowEnd: Date | undefined;
}

/** Why a table that has not started must not start now, if it must not. */
export function notStarting(ctx: CycleContext, table: TableConfig): TableSkipped | undefined {
  const stop = stopOf(ctx.signal);
  if (stop) return skipTable(ctx, table, stop.kind === 'deadline' ? 'deadline' : 'aborted', stop.message);
  if (ctx.drain?.aborted) return skipTable(ctx, table, 'aborted', 'not started: the cycle is draining (shutdown)');
  return undefined;
}

/** Marks a table skipped and says so on the event bus. */
export function skipTable(ctx: CycleContext, table: TableConfig, reason: SkipReason, detail: string): TableSkipped {
  ctx.events.emit({ type: 'table_skipped', cycleId: ctx.cycleId, table: table.name, layer: table.layer, at: ctx.clock.now(), reason, detail });
  return { table: table.name, layer: table.layer, status: 'skipped', reason, detail };
}

/**
 * Offloads one table: lease, plan, record the run, run the job with retries,
 * then advance the watermark (only after a successful result) or record the
 * failure. The lease is always released. Never rejects: every problem is an
 * outcome.
 */
export async function runTable(ctx: CycleContext, table: TableConfig): Promise<TableOutcome> {
  const skipped = notStarting(ctx, table);
  if (skipped) return skipped;

  const runId = ctx.newRunId();
  const startedAt = ctx.clock.now();
  let lease: Lease;
  try {
    lease = await acquireOrReclaim(ctx, table);
  } catch (error) {
    if (error instanceof LeaseUnavailableError) return skipTable(ctx, table, 'lease_held', error.message);
    return failTable(ctx, table, { runId, window: null, error, attempts: 0, startedAt });
  }

  const controller = new AbortController();
  const unfollow = follow(ctx.signal, controller);
  const timeoutAt = startedAt.getTime() + table.timeoutSeconds * 1000;
  const timer = setTimeout(
    () => controller.abort(new CycleStop('timeout', `exceeded its timeout of ${table.timeoutSeconds}s`)),
    Math.max(0, timeoutAt - ctx.clock.now().getTime()),
  );
  const keeper = new LeaseKeeper(ctx.store, lease, ctx.leaseTtlMs, ctx.logger, (lost) =>
    controller.abort(new CycleStop('lease_lost', `lease lost: ${lost.message}`)),
  );
  try {
    const budgetEndsAt = Math.min(timeoutAt, ctx.deadlineAt);
    keeper.keepFor(budgetEndsAt - ctx.clock.now().getTime());
    return await offloadUnderLease(ctx, table, { runId, startedAt, keeper, signal: controller.signal, budgetEndsAt });
  } finally {
    clearTimeout(timer);
    unfollow();
    const current = await keeper.stop();
    await ctx.store.releaseLease(current).catch((error: unknown) => {
      ctx.logger.warn('lease release failed; it lapses at its expiry', { table: table.name, error: messageOf(error) });
    });
  }
}

/** The table's lease; one held by an owner proven dead (`isOwnerGone`) is taken over at once. */
async function acquireOrReclaim(ctx: CycleContext, table: TableConfig): Promise<Lease> {
  try {
    return await ctx.store.acquireLease(table.name, ctx.leaseOwner, ctx.leaseTtlMs);
  } catch (error) {
    const holder = error instanceof LeaseUnavailableError ? error.holder : undefined;
    if (holder === undefined || !ctx.isOwnerGone(holder)) throw error;
    ctx.logger.warn('taking over the lease of a process that is gone', { table: table.name, owner: holder });
    return ctx.store.acquireLease(table.name, ctx.leaseOwner, ctx.leaseTtlMs, { takeOverFrom: holder });
  }
}

interface LeasedRun {
  readonly runId: string;
  readonly startedAt: Date;
  readonly keeper: LeaseKeeper;
  /** Aborts when the table must stop (timeout, deadline, abort, lost lease). */
  readonly signal: AbortSignal;
  /** No retry sleeps past this instant (clock milliseconds). */
  readonly budgetEndsAt: number;
}

async function offloadUnderLease(ctx: CycleContext, table: TableConfig, run: LeasedRun): Promise<TableOutcome> {
  const { runId, startedAt, keeper } = run;
  let window: OffloadWindow | null = null;
  let recorded = false;
  let written: JobResult | undefined;
  const tally = { attempts: 0 };
  try {
    await recoverCommittedWatermark(ctx, table, run.signal);
    const state = await ctx.store.get(table.name);
    const planned = planWindow(state?.cursor ?? INITIAL_CURSOR, startedAt, ctx.lateDataBufferMinutes, ctx.windowEnd);
    window = planned.window;
    await ctx.store.startRun(keeper.lease, { runId, window });
    recorded = true;
    const result = planned.empty ? emptyResult(ctx.clock.now()) : await runWithRetries(ctx, table, run, window, tally);
    written = result;
    const durationSeconds = secondsSince(ctx.clock, startedAt);
    const advanced = await ctx.store.completeRun(await keeper.stop(), {
      runId,
      window,
      cursor: result.maxCursor,
      rows: result.rowsWritten,
      durationSeconds,
      snapshotId: result.snapshotId,
    });
    const outcome: TableSucceeded = {
      table: table.name,
      layer: table.layer,
      status: 'success',
      runId,
      window,
      rows: result.rowsWritten,
      bytes: result.bytesWritten,
      watermark: advanced.cursor,
      snapshotId: result.snapshotId,
      attempts: tally.attempts,
      durationSeconds,
    };
    ctx.events.emit({
      type: 'table_succeeded',
      cycleId: ctx.cycleId,
      table: table.name,
      layer: table.layer,
      at: ctx.clock.now(),
      runId,
      window,
      result,
      watermark: advanced.cursor,
      attempts: tally.attempts,
      durationSeconds,
    });
    return outcome;
  } catch (error) {
    const failed = failTable(ctx, table, { runId, window, error, attempts: tally.attempts, startedAt });
    if (written && written.rowsWritten > 0) {
      // The reference's defect 5: the rows are in Iceberg but the watermark
      // did not move. The next run's recovery (`JobRunner.committedWatermark`)
      // fast-forwards it; with a runner that cannot tell, the rows would be
      // written again.
      ctx.logger.error('rows were committed but the watermark did not advance', {
        table: table.name,
        runId,
        rows: written.rowsWritten,
        snapshotId: written.snapshotId,
        error: failed.message,
      });
    }
    if (recorded) {
      await ctx.store
        .failRun(await keeper.stop(), { runId, errorType: failed.errorType, message: failed.message, durationSeconds: failed.durationSeconds })
        .catch((cause: unknown) => ctx.logger.error('could not record the failed run', { table: table.name, runId, error: messageOf(cause) }));
    }
    return failed;
  }
}

/**
 * Exactly-once across crashes: when the target already holds rows past the
 * stored watermark (the process died between the commit and the watermark
 * update), the store catches up before the window is planned, so that
 * window is not offloaded again. A target that cannot be read fails the
 * table: planning blind could write the same rows twice.
 */
async function recoverCommittedWatermark(ctx: CycleContext, table: TableConfig, signal: AbortSignal): Promise<void> {
  if (!ctx.runner.committedWatermark) return;
  const committed = await ctx.runner.committedWatermark(table, signal);
  if (committed && (await ctx.store.fastForward(table.name, committed))) {
    ctx.logger.warn('watermark fast-forwarded to the last row the target committed', {
      table: table.name,
      watermark: formatCursor(committed),
    });
  }
}

/** Runs the job, retrying retryable failures with backoff while the budget allows. */
function runWithRetries(
  ctx: CycleContext,
  table: TableConfig,
  run: LeasedRun,
  window: OffloadWindow,
  tally: { attempts: number },
): Promise<JobResult> {
  const base = { cycleId: ctx.cycleId, table: table.name, layer: table.layer, runId: run.runId };
  return pRetry(
    (attempt) => {
      tally.attempts = attempt;
      ctx.events.emit({ ...base, type: 'table_started', at: ctx.clock.now(), window, attempt });
      return runAttempt(ctx, { runId: run.runId, table, window, attempt, lease: run.keeper.lease }, run.signal);
    },
    {
      retries: ctx.retry.retries,
      // p-retry drives the attempts; the orchestrator sleeps itself so the
      // delay is known before sleeping (checked against the budget, reported
      // in `table_retrying`) and tests can inject the sleep and the jitter.
      minTimeout: 0,
      shouldRetry: async ({ error, attemptNumber, retriesConsumed }) => {
        if (!isRetryable(error) || run.signal.aborted) return false;
        const delayMs = backoffDelayMs(ctx.retry, retriesConsumed, ctx.random);
        if (ctx.clock.now().getTime() + delayMs >= run.budgetEndsAt) {
          ctx.logger.warn('not retrying: the backoff would pass the table budget or cycle deadline', { table: table.name, delayMs });
          return false;
        }
        const message = messageOf(error);
        ctx.events.emit({ ...base, type: 'table_retrying', at: ctx.clock.now(), attempt: attemptNumber, errorType: errorTypeOf(error), message, delayMs });
        try {
          await ctx.sleep(delayMs, run.signal);
        } catch {
          // Stopped while waiting: the last attempt's error is the table's failure.
          return false;
        }
        return !run.signal.aborted;
      },
    },
  );
}

/**
 * One attempt under its own AbortController, which follows the table's
 * signal. A failure while that signal is aborted is the orchestrator's stop
 * (`timeout`, or `crash` for a lost lease), whatever the runner threw. A
 * result that arrives is always kept: its rows are committed, so the
 * watermark must advance even if a stop raced with it.
 */
async function runAttempt(ctx: CycleContext, job: OffloadJob, tableSignal: AbortSignal): Promise<JobResult> {
  const early = stopOf(tableSignal);
  if (early) throw stoppedFailure(job.table.name, early, undefined);
  const controller = new AbortController();
  const unfollow = follow(tableSignal, controller);
  try {
    return await ctx.runner.run(job, controller.signal);
  } catch (error) {
    const stop = stopOf(controller.signal);
    throw stop ? stoppedFailure(job.table.name, stop, error) : error;
  } finally {
    unfollow();
  }
}

interface FailureInput {
  readonly runId: string;
  readonly window: OffloadWindow | null;
  readonly error: unknown;
  readonly attempts: number;
  readonly startedAt: Date;
}

function failTable(ctx: CycleContext, table: TableConfig, input: FailureInput): TableFailed {
  const errorType = errorTypeOf(input.error);
  const message = messageOf(input.error);
  const durationSeconds = secondsSince(ctx.clock, input.startedAt);
  ctx.events.emit({
    type: 'table_failed',
    cycleId: ctx.cycleId,
    table: table.name,
    layer: table.layer,
    at: ctx.clock.now(),
    runId: input.runId,
    errorType,
    message,
    attempts: input.attempts,
    durationSeconds,
  });
  return {
    table: table.name,
    layer: table.layer,
    status: 'failed',
    runId: input.runId,
    window: input.window,
    errorType,
    message,
    attempts: input.attempts,
    durationSeconds,
  };
}

function emptyResult(now: Date): JobResult {
  return { rowsWritten: 0, maxCursor: null, bytesWritten: 0, snapshotId: null, timings: { startedAt: now, finishedAt: now, durationSeconds: 0 } };
}

function secondsSince(clock: Clock, start: Date): number {
  return Math.max(0, (clock.now().getTime() - start.getTime()) / 1000);
}
