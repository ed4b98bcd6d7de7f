import { LeaseUnavailableError } from '../errors.js';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { INITIAL_CURSOR, compareCursors } from '../watermark/cursor.js';
import type { Cursor } from '../watermark/cursor.js';
import {
  assertLeaseCurrent,
  assertLimit,
  assertTtl,
  checkAdvance,
  duplicateRun,
  isLeaseLive,
  isRepeatedCompletion,
  runNotStarted,
  staleRunMessage,
  truncateErrorMessage,
  unknownTable,
} from '../watermark/rules.js';
import type {
  AcquireLeaseOptions,
  CycleQuery,
  CycleRecord,
  Lease,
  RunFailure,
  RunQuery,
  RunRecord,
  RunStart,
  RunSuccess,
  WatermarkState,
  WatermarkStore,
} from '../watermark/store.js';

export interface InMemoryWatermarkStoreOptions {
  /** Time of every timestamp and lease expiry; defaults to the system clock. */
  readonly clock?: Clock;
}

function copyCursor(cursor: Cursor): Cursor {
  return Object.freeze({ ...cursor, tieBreakers: Object.freeze([...cursor.tieBreakers]) });
}

/** Newest first; run ids break ties so the order is total, as in PostgreSQL. */
function newestFirst(a: RunRecord, b: RunRecord): number {
  const byTime = b.startedAt.getTime() - a.startedAt.getTime();
  if (byTime !== 0) return byTime;
  return a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}

/**
 * A `WatermarkStore` in process memory with the same semantics as
 * `PostgresWatermarkStore` (one conformance suite runs against both). Every
 * method does its work synchronously before its promise settles, so each is
 * atomic. For tests and single-process simulations: nothing survives the process.
 */
export class InMemoryWatermarkStore implements WatermarkStore {
  readonly #clock: Clock;
  readonly #rows = new Map<string, WatermarkState>();
  /** Released and expired leases stay, so fencing tokens keep growing. */
  readonly #leases = new Map<string, Lease>();
  readonly #runs = new Map<string, RunRecord>();
  readonly #cycles = new Map<string, CycleRecord>();

  constructor(options: InMemoryWatermarkStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async ensureTables(tables: readonly string[]): Promise<void> {
    const now = this.#clock.now();
    for (const table of tables) {
      if (this.#rows.has(table)) continue;
      this.#rows.set(table, {
        table,
        cursor: INITIAL_CURSOR,
        status: 'initialized',
        lastRowCount: 0,
        lastSuccessfulRunAt: null,
        lastRunDurationSeconds: null,
        failureCount: 0,
        lastErrorMessage: null,
        advancedAt: null,
        createdAt: now,
        updatedAt: now,
      });
    }
  }

  async get(table: string): Promise<WatermarkState | undefined> {
    return this.#rows.get(table);
  }

  async list(): Promise<readonly WatermarkState[]> {
    return [...this.#rows.values()].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  }

  async acquireLease(table: string, owner: string, ttlMs: number, options: AcquireLeaseOptions = {}): Promise<Lease> {
    assertTtl(ttlMs);
    const now = this.#clock.now();
    const held = this.#leases.get(table);
    if (held && isLeaseLive(held.expiresAt, now) && held.owner !== owner && held.owner !== options.takeOverFrom) {
      throw new LeaseUnavailableError(table, held.owner, held.expiresAt);
    }
    const lease: Lease = { table, owner, token: (held?.token ?? 0n) + 1n, expiresAt: new Date(now.getTime() + ttlMs) };
    this.#leases.set(table, lease);
    return lease;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    assertTtl(ttlMs);
    const now = this.#clock.now();
    const held = this.#leases.get(lease.table);
    if (!held || held.token !== lease.token || !isLeaseLive(held.expiresAt, now)) {
      throw new LeaseUnavailableError(lease.table, held && isLeaseLive(held.expiresAt, now) ? held.owner : undefined);
    }
    const renewed: Lease = { ...held, expiresAt: new Date(now.getTime() + ttlMs) };
    this.#leases.set(lease.table, renewed);
    return renewed;
  }

  async releaseLease(lease: Lease): Promise<void> {
    const held = this.#leases.get(lease.table);
    if (!held || held.token !== lease.token) return;
    const now = this.#clock.now();
    if (isLeaseLive(held.expiresAt, now)) this.#leases.set(lease.table, { ...held, expiresAt: now });
  }

  async startRun(lease: Lease, run: RunStart): Promise<void> {
    const { now, row } = this.#currentRow(lease);
    if (this.#runs.has(run.runId)) throw duplicateRun(lease.table, run.runId);
    this.#rows.set(lease.table, { ...row, status: 'running', updatedAt: now });
    this.#runs.set(run.runId, {
      runId: run.runId,
      table: lease.table,
      window: { after: copyCursor(run.window.after), untilMicros: run.window.untilMicros },
      outcome: 'running',
      rows: null,
      errorType: null,
      errorMessage: null,
      snapshotId: null,
      startedAt: now,
      finishedAt: null,
    });
  }

  async completeRun(lease: Lease, run: RunSuccess): Promise<WatermarkState> {
    const { now, row } = this.#currentRow(lease);
    const record = this.#startedRun(lease.table, run.runId);
    if (isRepeatedCompletion(record.outcome, row.cursor, run)) return row;
    const moves = checkAdvance(lease.table, row.cursor, run);
    const next: WatermarkState = {
      ...row,
      cursor: moves && run.cursor ? copyCursor(run.cursor) : row.cursor,
      status: 'success',
      lastRowCount: run.rows,
      lastSuccessfulRunAt: now,
      lastRunDurationSeconds: run.durationSeconds,
      failureCount: 0,
      advancedAt: moves ? now : row.advancedAt,
      updatedAt: now,
    };
    this.#rows.set(lease.table, next);
    this.#runs.set(run.runId, { ...record, outcome: 'success', rows: run.rows, snapshotId: run.snapshotId, finishedAt: now });
    return next;
  }

  async failRun(lease: Lease, run: RunFailure): Promise<void> {
    const { now, row } = this.#currentRow(lease);
    const record = this.#startedRun(lease.table, run.runId);
    const message = truncateErrorMessage(run.message);
    this.#rows.set(lease.table, {
      ...row,
      status: 'failed',
      failureCount: row.failureCount + 1,
      lastErrorMessage: message,
      lastRunDurationSeconds: run.durationSeconds,
      updatedAt: now,
    });
    this.#runs.set(run.runId, { ...record, outcome: 'failed', errorType: run.errorType, errorMessage: message, finishedAt: now });
  }

  async fastForward(table: string, cursor: Cursor): Promise<boolean> {
    const row = this.#rows.get(table);
    if (!row) throw unknownTable(table);
    if (compareCursors(cursor, row.cursor) <= 0) return false;
    const now = this.#clock.now();
    this.#rows.set(table, { ...row, cursor: copyCursor(cursor), advancedAt: now, updatedAt: now });
    return true;
  }

  async recoverStaleRuns(olderThanMs: number): Promise<readonly string[]> {
    const now = this.#clock.now();
    const cutoff = now.getTime() - olderThanMs;
    const reset: string[] = [];
    for (const row of this.#rows.values()) {
      if (row.status !== 'running' || row.updatedAt.getTime() >= cutoff) continue;
      reset.push(row.table);
      this.#rows.set(row.table, {
        ...row,
        status: 'failed',
        failureCount: row.failureCount + 1,
        lastErrorMessage: staleRunMessage(olderThanMs),
        updatedAt: now,
      });
      for (const run of this.#runs.values()) {
        if (run.table === row.table && run.outcome === 'running') {
          this.#runs.set(run.runId, { ...run, outcome: 'abandoned', finishedAt: now });
        }
      }
    }
    return reset.sort();
  }

  async recentRuns(query: RunQuery = {}): Promise<readonly RunRecord[]> {
    assertLimit(query.limit);
    const since = query.since?.getTime();
    const runs = [...this.#runs.values()]
      .filter((r) => (query.table === undefined || r.table === query.table) && (since === undefined || r.startedAt.getTime() >= since))
      .sort(newestFirst);
    return query.limit === undefined ? runs : runs.slice(0, query.limit);
  }

  async recordCycle(cycle: CycleRecord): Promise<void> {
    if (!this.#cycles.has(cycle.cycleId)) this.#cycles.set(cycle.cycleId, Object.freeze({ ...cycle }));
  }

  async recentCycles(query: CycleQuery = {}): Promise<readonly CycleRecord[]> {
    assertLimit(query.limit);
    const since = query.since?.getTime();
    const cycles = [...this.#cycles.values()]
      .filter((c) => since === undefined || c.startedAt.getTime() >= since)
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.cycleId < b.cycleId ? 1 : a.cycleId > b.cycleId ? -1 : 0));
    return query.limit === undefined ? cycles : cycles.slice(0, query.limit);
  }

  #currentRow(lease: Lease): { now: Date; row: WatermarkState } {
    const now = this.#clock.now();
    assertLeaseCurrent(lease, this.#leases.get(lease.table), now);
    const row = this.#rows.get(lease.table);
    if (!row) throw unknownTable(lease.table);
    return { now, row };
  }

  #startedRun(table: string, runId: string): RunRecord {
    const record = this.#runs.get(runId);
    if (!record || record.table !== table) throw runNotStarted(table, runId);
    return record;
  }
}

