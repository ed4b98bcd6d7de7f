import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import type { RetryPolicy, TableConfig } from '../config/index.js';
import { messageOf, OffloadError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import type { JobRunner } from '../runner/contract.js';
import type { WatermarkStore } from '../watermark/store.js';
import { OffloadEvents } from './events.js';
import { buildDependencyGraph } from './graph.js';
import type { DependencyGraph } from './graph.js';
import { cycleRecordOf } from './report.js';
import type { CycleReport, CycleStatus, TableOutcome } from './report.js';
import { realSleep } from './retry.js';
import type { Sleep } from './retry.js';
import { CycleStop, follow } from './stop.js';
import { notStarting, runTable, skipTable } from './table-run.js';
import type { CycleContext } from './table-run.js';

/** Everything a cycle needs; side effects come in through `store`, `runner`, `clock` and `sleep`. */
export interface OrchestratorOptions {
  readonly tables: readonly TableConfig[];
  readonly store: WatermarkStore;
  readonly runner: JobRunner;
  readonly clock?: Clock;
  /**
   * For what events do not carry (lease and store trouble, retries given up
   * for lack of time). The operator's log lines come from the events, see
   * `logOffloadEvents`.
   */
  readonly logger?: Logger;
  /** Where events go; a private bus with no listeners when omitted. */
  readonly events?: OffloadEvents;
  /** Tables offloaded at once. */
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  readonly lateDataBufferMinutes: number;
  /** Used only for the default deadline. Default 15. */
  readonly scheduleMinutes?: number;
  /** Work still running this long after the cycle started is stopped. Default: 2/3 of the schedule (10 min for 15). */
  readonly cycleDeadlineMs?: number;
  /** Identifies this scheduler instance in leases. */
  readonly leaseOwner: string;
  /**
   * Whether the owner of a live lease is known to be dead (e.g. a process of
   * this host that no longer runs); its lease is then taken over at once
   * instead of blocking the table until it expires. Default: never known.
   */
  readonly isOwnerGone?: (owner: string) => boolean;
  /** Lease time to live; renewed every third of it while a run may outlast it. Default 60 s. */
  readonly leaseTtlMs?: number;
  /** Ids of cycles and runs. Default `crypto.randomUUID`. */
  readonly newRunId?: () => string;
  /** Waits between retries. Default: an abortable `setTimeout`. */
  readonly sleep?: Sleep;
  /** Source of retry jitter in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Adds every finished cycle to the store's cycle history (`recentCycles`),
   * which diagnostics read cycle durations from. Default true; a backfill's
   * chunks are not scheduler cycles and pass false.
   */
  readonly recordHistory?: boolean;
}

/** How one cycle may be cut short or bounded. */
export interface CycleControls {
  /** Aborting stops running jobs (they fail as `timeout`) and skips tables not yet started (`aborted`). */
  readonly signal?: AbortSignal;
  /**
   * Aborting lets running tables finish but skips tables not yet started
   * (`aborted`): a graceful shutdown drains first, then aborts after a grace period.
   */
  readonly drain?: AbortSignal;
  /** Windows end no later than this (besides `now - lateDataBufferMinutes`); for backfills in chunks. */
  readonly windowEnd?: Date;
}

export interface CycleOptions extends OrchestratorOptions, CycleControls {}

const DEFAULT_LEASE_TTL_MS = 60_000;

/**
 * Runs offload cycles over a fixed set of tables.
 *
 * A table starts as soon as its dependencies have succeeded (see
 * `buildDependencyGraph` for the layer rule), at most `concurrency` at once.
 * A table whose dependency failed or was skipped is skipped
 * (`dependency_failed`); once the cycle is past its deadline or aborted,
 * tables not yet started are skipped (`deadline` / `aborted`) instead.
 *
 * Per table: take the lease (held elsewhere → skipped `lease_held`), read
 * the cursor, plan the window, record the run, run the job, then move the
 * watermark to the result's `maxCursor` (only after a successful result) or
 * record the failure; the lease is always released. An empty window (see
 * `planWindow`) succeeds with 0 rows and 0 attempts without calling the
 * runner, but is still recorded as a run.
 *
 * Time: `timeoutSeconds` bounds a table's whole run, retries included; the
 * cycle deadline bounds everything. An attempt stopped by either, or by the
 * caller's signal, fails as `timeout` and is not retried. Retryable failures
 * (`error.retryable`) are retried with the policy's exponential backoff,
 * unless the wait would end past the table's budget or the deadline.
 * Failures that are not `JobFailedError` count as `crash`. The orchestrator
 * waits for an aborted job to settle rather than abandon it: releasing the
 * lease while a job might still commit would let another run overlap it.
 *
 * Events per table: `table_started` per attempt, `table_retrying` (its
 * `attempt` is the one that failed) before each retry, then one of
 * `table_succeeded`, `table_failed` or `table_skipped`; the cycle's events
 * enclose them.
 *
 * Cycle status: `success` when every configured table succeeded, `failed`
 * when none did, `partial` otherwise. A skipped table counts as not
 * succeeded (its data did not move this cycle), so a cycle whose only
 * problem is a lease held elsewhere is `partial`, or `failed` if it skipped
 * everything.
 */
export class CycleOrchestrator {
  readonly #options: OrchestratorOptions;
  readonly #graph: DependencyGraph;
  readonly #events: OffloadEvents;
  readonly #deadlineMs: number;

  /** Throws `DependencyCycleError` / `UnknownTableError` for bad dependencies, `OffloadError` (config) for bad options. */
  constructor(options: OrchestratorOptions) {
    const deadlineMs = options.cycleDeadlineMs ?? ((options.scheduleMinutes ?? 15) * 60_000 * 2) / 3;
    check(Number.isInteger(options.concurrency) && options.concurrency >= 1, 'concurrency', options.concurrency, 'an integer >= 1');
    check(deadlineMs > 0, 'cycleDeadlineMs', deadlineMs, 'a number of milliseconds > 0');
    check((options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS) > 0, 'leaseTtlMs', options.leaseTtlMs, 'a number of milliseconds > 0');
    check(options.leaseOwner.length > 0, 'leaseOwner', options.leaseOwner, 'a non-empty owner name');
    this.#graph = buildDependencyGraph(options.tables);
    this.#options = options;
    this.#events = options.events ?? new OffloadEvents();
    this.#deadlineMs = deadlineMs;
  }

  /**
   * Runs one cycle and returns its report. Rejects only when the store cannot
   * register the tables before the cycle starts; any problem with a table is
   * an outcome in the report.
   */
  async runCycle(signal?: AbortSignal, controls: Omit<CycleControls, 'signal'> = {}): Promise<CycleReport> {
    const o = this.#options;
    const clock = o.clock ?? systemClock;
    const newRunId = o.newRunId ?? randomUUID;
    await o.store.ensureTables(o.tables.map((t) => t.name));

    const cycleId = newRunId();
    const startedAt = clock.now();
    const controller = new AbortController();
    // Every running table follows the cycle's signal with one listener; Node
    // warns of a leak past 10, which an operator with 12 tables would read in
    // the journal every cycle. The listeners are removed when each table ends.
    setMaxListeners(o.concurrency + 10, controller.signal);
    const unfollow = signal ? follow(signal, controller) : () => {};
    const deadline = setTimeout(
      () => controller.abort(new CycleStop('deadline', `stopped at the cycle deadline (${this.#deadlineMs / 1000}s)`)),
      this.#deadlineMs,
    );
    const ctx: CycleContext = {
      cycleId,
      store: o.store,
      runner: o.runner,
      clock,
      logger: o.logger ?? silentLogger,
      events: this.#events,
      retry: o.retry,
      lateDataBufferMinutes: o.lateDataBufferMinutes,
      leaseOwner: o.leaseOwner,
      leaseTtlMs: o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      isOwnerGone: o.isOwnerGone ?? (() => false),
      newRunId,
      sleep: o.sleep ?? realSleep,
      random: o.random ?? Math.random,
      deadlineAt: startedAt.getTime() + this.#deadlineMs,
      signal: controller.signal,
      drain: controls.drain,
      windowEnd: controls.windowEnd,
    };
    this.#events.emit({ type: 'cycle_started', cycleId, at: startedAt, tables: o.tables.map((t) => t.name) });
    try {
      const outcomes = await this.#runTables(ctx);
      const report = buildReport(cycleId, startedAt, clock.now(), outcomes);
      // The watermarks are committed by now: a history that cannot be written costs a diagnosis, not the cycle.
      if (o.recordHistory !== false) {
        await o.store.recordCycle(cycleRecordOf(report)).catch((error: unknown) => ctx.logger.warn('could not record the cycle in the cycle history', { cycleId, error: messageOf(error) }));
      }
      this.#events.emit({ type: 'cycle_finished', cycleId, at: report.finishedAt, report });
      return report;
    } finally {
      clearTimeout(deadline);
      unfollow();
    }
  }

  #runTables(ctx: CycleContext): Promise<TableOutcome[]> {
    const limit = pLimit(this.#options.concurrency);
    const byName = new Map(this.#options.tables.map((t) => [t.name, t]));
    const outcomes = new Map<string, Promise<TableOutcome>>();
    // In dependency order, so every dependency's promise exists when a dependent chains on it.
    for (const name of this.#graph.order) {
      const table = byName.get(name)!;
      const deps = (this.#graph.dependencies.get(name) ?? []).map((d) => outcomes.get(d)!);
      outcomes.set(
        name,
        Promise.all(deps).then((done) => {
          const skipped = notStarting(ctx, table);
          if (skipped) return skipped;
          const blocker = done.find((o) => o.status !== 'success');
          if (blocker) {
            const what = blocker.status === 'failed' ? 'failed' : 'was skipped';
            return skipTable(ctx, table, 'dependency_failed', `depends on ${blocker.table}, which ${what}`);
          }
          return limit(() => runTable(ctx, table));
        }),
      );
    }
    return Promise.all(this.#options.tables.map((t) => outcomes.get(t.name)!));
  }
}

/** Runs one cycle; see `CycleOrchestrator`. */
export function runCycle(options: CycleOptions): Promise<CycleReport> {
  const { signal, drain, windowEnd } = options;
  return new CycleOrchestrator(options).runCycle(signal, {
    ...(drain === undefined ? {} : { drain }),
    ...(windowEnd === undefined ? {} : { windowEnd }),
  });
}

/** `success` if every table succeeded, `failed` if none did, `partial` otherwise; skipped counts as not succeeded. */
export function cycleStatus(outcomes: readonly TableOutcome[]): CycleStatus {
  const ok = outcomes.filter((o) => o.status === 'success').length;
  if (ok === outcomes.length) return 'success';
  return ok === 0 ? 'failed' : 'partial';
}

function buildReport(cycleId: string, startedAt: Date, finishedAt: Date, tables: readonly TableOutcome[]): CycleReport {
  return {
    cycleId,
    status: cycleStatus(tables),
    startedAt,
    finishedAt,
    durationSeconds: Math.max(0, (finishedAt.getTime() - startedAt.getTime()) / 1000),
    tables,
    totalRows: tables.reduce((sum, o) => sum + (o.status === 'success' ? o.rows : 0), 0),
  };
}

function check(ok: boolean, key: string, value: unknown, expected: string): void {
  if (!ok) throw new OffloadError('config', `invalid orchestrator option ${key}: got ${String(value)}, expected ${expected}`);
}
