import { LeaseUnavailableError } from '../errors.js';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { quotePostgres } from '../identifiers/identifiers.js';
import { INITIAL_CURSOR, compareCursors } from './cursor.js';
import type { Cursor } from './cursor.js';
import { DEFAULT_WATERMARK_SCHEMA } from './migrations.js';
import { inTransaction } from './pg-client.js';
import type { PgPool, PgQueryable } from './pg-client.js';
import {
  CYCLE_COLUMNS,
  RUN_COLUMNS,
  WATERMARK_COLUMNS,
  encodeTieBreakers,
  instant,
  micros,
  microsColumn,
  readCycle,
  readInstant,
  readRun,
  readWatermark,
} from './pg-codec.js';
import type { CycleRow, RunRow, WatermarkRow } from './pg-codec.js';
import {
  assertLeaseCurrent,
  assertLimit,
  assertTtl,
  checkAdvance,
  duplicateRun,
  isRepeatedCompletion,
  runNotStarted,
  staleRunMessage,
  truncateErrorMessage,
  unknownTable,
} from './rules.js';
import type {
  AcquireLeaseOptions,
  CycleQuery,
  CycleRecord,
  Lease,
  RunFailure,
  RunOutcome,
  RunQuery,
  RunRecord,
  RunStart,
  RunSuccess,
  WatermarkState,
  WatermarkStore,
} from './store.js';

export interface PostgresWatermarkStoreOptions {
  /** A `pg.Pool` (or anything with its `query` and `connect`); the caller owns and ends it. */
  readonly pool: PgPool;
  /** Time of every timestamp and lease expiry; defaults to the system clock. */
  readonly clock?: Clock;
  /** Schema `migrate` created the tables in; defaults to `public`. */
  readonly schema?: string;
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === UNIQUE_VIOLATION;
}

/**
 * The production `WatermarkStore`, on the tables `migrate` creates. Every
 * write that needs the lease runs in one transaction that locks the lease row
 * and then the watermark row (always in that order), so a takeover cannot
 * slip between the fencing check and the write. Time comes from the injected
 * clock, never from the database's `now()`, so lease expiry and staleness
 * agree across processes that share a clock source and are testable.
 */
export class PostgresWatermarkStore implements WatermarkStore {
  readonly #pool: PgPool;
  readonly #clock: Clock;
  readonly #watermarks: string;
  readonly #runs: string;
  readonly #leases: string;
  readonly #cycles: string;

  constructor(options: PostgresWatermarkStoreOptions) {
    const schema = quotePostgres(options.schema ?? DEFAULT_WATERMARK_SCHEMA);
    this.#pool = options.pool;
    this.#clock = options.clock ?? systemClock;
    this.#watermarks = `${schema}.offload_watermarks`;
    this.#runs = `${schema}.offload_runs`;
    this.#leases = `${schema}.offload_leases`;
    this.#cycles = `${schema}.offload_cycles`;
  }

  async ensureTables(tables: readonly string[]): Promise<void> {
    if (tables.length === 0) return;
    const now = instant(this.#clock.now());
    await this.#pool.query(
      `INSERT INTO ${this.#watermarks}
         (table_name, last_offload_timestamp, last_offload_max_sequence, tie_breakers, created_at, updated_at)
       SELECT t, $2::timestamptz, $3::numeric, $4::jsonb, $5::timestamptz, $5::timestamptz FROM unnest($1::text[]) AS t
       ON CONFLICT (table_name) DO NOTHING`,
      [[...tables], micros(INITIAL_CURSOR.timestampMicros), INITIAL_CURSOR.sequence.toString(), encodeTieBreakers(INITIAL_CURSOR.tieBreakers), now],
    );
  }

  async get(table: string): Promise<WatermarkState | undefined> {
    const result = await this.#pool.query<WatermarkRow>(`SELECT ${WATERMARK_COLUMNS} FROM ${this.#watermarks} WHERE table_name = $1`, [table]);
    const row = result.rows[0];
    return row ? readWatermark(row) : undefined;
  }

  async list(): Promise<readonly WatermarkState[]> {
    const result = await this.#pool.query<WatermarkRow>(`SELECT ${WATERMARK_COLUMNS} FROM ${this.#watermarks} ORDER BY table_name COLLATE "C"`);
    return result.rows.map(readWatermark);
  }

  async acquireLease(table: string, owner: string, ttlMs: number, options: AcquireLeaseOptions = {}): Promise<Lease> {
    assertTtl(ttlMs);
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + ttlMs);
    // One statement: concurrent acquirers serialise on the row, and the loser re-evaluates WHERE against the winner's lease.
    const result = await this.#pool.query<{ token: string }>(
      `INSERT INTO ${this.#leases} AS l (table_name, owner, token, expires_at) VALUES ($1, $2, 1, $3::timestamptz)
       ON CONFLICT (table_name) DO UPDATE
         SET owner = EXCLUDED.owner, token = l.token + 1, expires_at = EXCLUDED.expires_at
         WHERE l.expires_at <= $4::timestamptz OR l.owner = EXCLUDED.owner OR l.owner = $5
       RETURNING token::text AS token`,
      [table, owner, instant(expiresAt), instant(now), options.takeOverFrom ?? null],
    );
    const row = result.rows[0];
    if (!row) throw await this.#unavailable(table, now);
    return { table, owner, token: BigInt(row.token), expiresAt };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    assertTtl(ttlMs);
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + ttlMs);
    const result = await this.#pool.query(
      `UPDATE ${this.#leases} SET expires_at = $3::timestamptz
       WHERE table_name = $1 AND token = $2::bigint AND expires_at > $4::timestamptz`,
      [lease.table, lease.token.toString(), instant(expiresAt), instant(now)],
    );
    if (!result.rowCount) throw await this.#unavailable(lease.table, now);
    return { ...lease, expiresAt };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const now = instant(this.#clock.now());
    // Expire rather than delete: the row carries the fencing token forward.
    await this.#pool.query(
      `UPDATE ${this.#leases} SET expires_at = $3::timestamptz
       WHERE table_name = $1 AND token = $2::bigint AND expires_at > $3::timestamptz`,
      [lease.table, lease.token.toString(), now],
    );
  }

  async startRun(lease: Lease, run: RunStart): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      const now = await this.#lockForWrite(client, lease);
      await this.#lockWatermark(client, lease.table);
      const after = run.window.after;
      try {
        await client.query(
          `INSERT INTO ${this.#runs} (run_id, table_name, window_after_timestamp, window_after_sequence,
             window_after_tie_breakers, window_until, outcome, started_at)
           VALUES ($1, $2, $3::timestamptz, $4::numeric, $5::jsonb, $6::timestamptz, 'running', $7::timestamptz)`,
          [run.runId, lease.table, micros(after.timestampMicros), after.sequence.toString(), encodeTieBreakers(after.tieBreakers),
            micros(run.window.untilMicros), instant(now)],
        );
      } catch (error) {
        throw isUniqueViolation(error) ? duplicateRun(lease.table, run.runId, error) : error;
      }
      await client.query(`UPDATE ${this.#watermarks} SET status = 'running', updated_at = $2::timestamptz WHERE table_name = $1`, [
        lease.table,
        instant(now),
      ]);
    });
  }

  /**
   * See {@link WatermarkStore.completeRun}. With `options.client`, runs on
   * that connection inside the caller's open transaction instead of its own:
   * an Iceberg SQL catalog sharing this database passes its commit
   * transaction, so the pointer swap and the watermark advance commit or roll
   * back together.
   */
  async completeRun(lease: Lease, run: RunSuccess, options: { readonly client?: PgQueryable } = {}): Promise<WatermarkState> {
    const work = async (client: PgQueryable): Promise<WatermarkState> => {
      const now = await this.#lockForWrite(client, lease);
      const stored = await this.#lockWatermark(client, lease.table);
      const outcome = await this.#lockStartedRun(client, lease.table, run.runId);
      if (isRepeatedCompletion(outcome, stored.cursor, run)) return stored;
      const moves = checkAdvance(lease.table, stored.cursor, run);
      const next: Cursor = moves && run.cursor ? run.cursor : stored.cursor;
      const at = instant(now);
      const updated = await client.query<WatermarkRow>(
        `UPDATE ${this.#watermarks} SET
           last_offload_timestamp = $2::timestamptz, last_offload_max_sequence = $3::numeric, tie_breakers = $4::jsonb,
           status = 'success', failure_count = 0, last_offload_row_count = $5::bigint, last_run_duration_seconds = $6,
           last_successful_run = $7::timestamptz, updated_at = $7::timestamptz,
           advanced_at = CASE WHEN $8::boolean THEN $7::timestamptz ELSE advanced_at END
         WHERE table_name = $1
         RETURNING ${WATERMARK_COLUMNS}`,
        [lease.table, micros(next.timestampMicros), next.sequence.toString(), encodeTieBreakers(next.tieBreakers),
          run.rows.toString(), run.durationSeconds, at, moves],
      );
      await client.query(
        `UPDATE ${this.#runs} SET outcome = 'success', rows = $2::bigint, snapshot_id = $3, finished_at = $4::timestamptz WHERE run_id = $1`,
        [run.runId, run.rows.toString(), run.snapshotId, at],
      );
      return readWatermark(updated.rows[0]!);
    };
    return options.client ? work(options.client) : inTransaction(this.#pool, work);
  }

  async failRun(lease: Lease, run: RunFailure): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      const now = await this.#lockForWrite(client, lease);
      await this.#lockWatermark(client, lease.table);
      await this.#lockStartedRun(client, lease.table, run.runId);
      const message = truncateErrorMessage(run.message);
      const at = instant(now);
      await client.query(
        `UPDATE ${this.#watermarks} SET status = 'failed', failure_count = failure_count + 1, last_error_message = $2,
           last_run_duration_seconds = $3, updated_at = $4::timestamptz
         WHERE table_name = $1`,
        [lease.table, message, run.durationSeconds, at],
      );
      await client.query(
        `UPDATE ${this.#runs} SET outcome = 'failed', error_type = $2, error_message = $3, finished_at = $4::timestamptz WHERE run_id = $1`,
        [run.runId, run.errorType, message, at],
      );
    });
  }

  async fastForward(table: string, cursor: Cursor): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const stored = await this.#lockWatermark(client, table);
      if (compareCursors(cursor, stored.cursor) <= 0) return false;
      const at = instant(this.#clock.now());
      await client.query(
        `UPDATE ${this.#watermarks} SET last_offload_timestamp = $2::timestamptz, last_offload_max_sequence = $3::numeric,
           tie_breakers = $4::jsonb, advanced_at = $5::timestamptz, updated_at = $5::timestamptz
         WHERE table_name = $1`,
        [table, micros(cursor.timestampMicros), cursor.sequence.toString(), encodeTieBreakers(cursor.tieBreakers), at],
      );
      return true;
    });
  }

  async recoverStaleRuns(olderThanMs: number): Promise<readonly string[]> {
    const now = this.#clock.now();
    const cutoff = new Date(now.getTime() - olderThanMs);
    // Both updates run to completion even though only `stale` is read (PostgreSQL's rule for data-modifying CTEs).
    const result = await this.#pool.query<{ table_name: string }>(
      `WITH stale AS (
         UPDATE ${this.#watermarks} SET status = 'failed', failure_count = failure_count + 1,
           last_error_message = $3, updated_at = $1::timestamptz
         WHERE status = 'running' AND updated_at < $2::timestamptz
         RETURNING table_name
       ), abandoned AS (
         UPDATE ${this.#runs} SET outcome = 'abandoned', finished_at = $1::timestamptz
         WHERE outcome = 'running' AND table_name IN (SELECT table_name FROM stale)
       )
       SELECT table_name FROM stale ORDER BY table_name COLLATE "C"`,
      [instant(now), instant(cutoff), staleRunMessage(olderThanMs)],
    );
    return result.rows.map((r) => r.table_name);
  }

  async recentRuns(query: RunQuery = {}): Promise<readonly RunRecord[]> {
    assertLimit(query.limit);
    const result = await this.#pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${this.#runs}
       WHERE ($1::text IS NULL OR table_name = $1) AND ($2::timestamptz IS NULL OR started_at >= $2::timestamptz)
       ORDER BY started_at DESC, run_id COLLATE "C" DESC
       LIMIT $3::bigint`,
      [query.table ?? null, query.since ? instant(query.since) : null, query.limit ?? null],
    );
    return result.rows.map(readRun);
  }

  async recordCycle(cycle: CycleRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#cycles}
         (cycle_id, status, started_at, finished_at, duration_seconds, total_rows, tables_succeeded, tables_failed, tables_skipped)
       VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5, $6::bigint, $7, $8, $9)
       ON CONFLICT (cycle_id) DO NOTHING`,
      [
        cycle.cycleId,
        cycle.status,
        instant(cycle.startedAt),
        instant(cycle.finishedAt),
        cycle.durationSeconds,
        String(cycle.totalRows),
        cycle.tablesSucceeded,
        cycle.tablesFailed,
        cycle.tablesSkipped,
      ],
    );
  }

  async recentCycles(query: CycleQuery = {}): Promise<readonly CycleRecord[]> {
    assertLimit(query.limit);
    const result = await this.#pool.query<CycleRow>(
      `SELECT ${CYCLE_COLUMNS} FROM ${this.#cycles}
       WHERE ($1::timestamptz IS NULL OR started_at >= $1::timestamptz)
       ORDER BY started_at DESC, cycle_id COLLATE "C" DESC
       LIMIT $2::bigint`,
      [query.since ? instant(query.since) : null, query.limit ?? null],
    );
    return result.rows.map(readCycle);
  }

  /** Locks the lease row and checks fencing; returns the instant of the write. */
  async #lockForWrite(client: PgQueryable, lease: Lease): Promise<Date> {
    const now = this.#clock.now();
    const result = await client.query<{ token: string; expires_at: string }>(
      `SELECT token::text AS token, ${microsColumn('expires_at', 'expires_at')} FROM ${this.#leases} WHERE table_name = $1 FOR UPDATE`,
      [lease.table],
    );
    const row = result.rows[0];
    const expiresAt = readInstant(row?.expires_at ?? null);
    assertLeaseCurrent(lease, row && expiresAt ? { token: BigInt(row.token), expiresAt } : undefined, now);
    return now;
  }

  async #lockWatermark(client: PgQueryable, table: string): Promise<WatermarkState> {
    const result = await client.query<WatermarkRow>(`SELECT ${WATERMARK_COLUMNS} FROM ${this.#watermarks} WHERE table_name = $1 FOR UPDATE`, [table]);
    const row = result.rows[0];
    if (!row) throw unknownTable(table);
    return readWatermark(row);
  }

  async #lockStartedRun(client: PgQueryable, table: string, runId: string): Promise<RunOutcome> {
    const result = await client.query<{ outcome: RunOutcome }>(
      `SELECT outcome FROM ${this.#runs} WHERE run_id = $1 AND table_name = $2 FOR UPDATE`,
      [runId, table],
    );
    const row = result.rows[0];
    if (!row) throw runNotStarted(table, runId);
    return row.outcome;
  }

  async #unavailable(table: string, now: Date): Promise<LeaseUnavailableError> {
    const result = await this.#pool.query<{ owner: string; expires_at: string }>(
      `SELECT owner, ${microsColumn('expires_at', 'expires_at')} FROM ${this.#leases} WHERE table_name = $1 AND expires_at > $2::timestamptz`,
      [table, instant(now)],
    );
    const row = result.rows[0];
    return new LeaseUnavailableError(table, row?.owner, readInstant(row?.expires_at ?? null) ?? undefined);
  }
}
