import { sqlCatalogDdl } from '../iceberg/catalog/sql.js';
import { quotePostgres } from '../identifiers/identifiers.js';
import { inTransaction } from './pg-client.js';
import type { PgPool, PgQueryable } from './pg-client.js';

/** One schema change, applied once, in its own transaction, in `version` order. */
export interface WatermarkMigration {
  readonly version: number;
  readonly name: string;
  /** The DDL, given the already quoted schema to create objects in. */
  sql(schema: string): string;
}

/** The PostgreSQL schema Coldtier uses when none is configured. */
export const DEFAULT_WATERMARK_SCHEMA = 'public';

/**
 * The watermark store's tables. Append only: an applied migration is never
 * edited, a change is a new version.
 */
export const WATERMARK_MIGRATIONS: readonly WatermarkMigration[] = Object.freeze([
  {
    version: 1,
    name: 'create_offload_watermarks',
    // Column names are the reference's, so its dashboards and ad-hoc queries keep working.
    sql: (s: string) => `
      CREATE TABLE ${s}.offload_watermarks (
        table_name text PRIMARY KEY,
        last_offload_timestamp timestamptz NOT NULL,
        last_offload_max_sequence numeric(20, 0) NOT NULL,
        tie_breakers jsonb NOT NULL DEFAULT '[]'::jsonb,
        last_offload_row_count bigint NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'initialized'
          CHECK (status IN ('initialized', 'running', 'success', 'failed')),
        last_successful_run timestamptz,
        last_run_duration_seconds double precision,
        failure_count integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
        last_error_message text CHECK (char_length(last_error_message) <= 1000),
        advanced_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`,
  },
  {
    version: 2,
    name: 'create_offload_runs',
    sql: (s: string) => `
      CREATE TABLE ${s}.offload_runs (
        run_id text PRIMARY KEY,
        table_name text NOT NULL,
        window_after_timestamp timestamptz NOT NULL,
        window_after_sequence numeric(20, 0) NOT NULL,
        window_after_tie_breakers jsonb NOT NULL DEFAULT '[]'::jsonb,
        window_until timestamptz NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'abandoned')),
        rows bigint,
        error_type text CHECK (error_type IN ('timeout', 'connection', 'process_error', 'crash')),
        error_message text,
        snapshot_id text,
        started_at timestamptz NOT NULL,
        finished_at timestamptz
      );
      CREATE INDEX offload_runs_table_started ON ${s}.offload_runs (table_name, started_at DESC)`,
  },
  {
    version: 3,
    name: 'create_offload_leases',
    // Rows are never deleted: the token must keep growing across releases.
    sql: (s: string) => `
      CREATE TABLE ${s}.offload_leases (
        table_name text PRIMARY KEY,
        owner text NOT NULL,
        token bigint NOT NULL CHECK (token > 0),
        expires_at timestamptz NOT NULL
      )`,
  },
  {
    version: 4,
    name: 'create_offload_cycles',
    // Per-table detail is in offload_runs; a cycle keeps what the runbook's step 1 reads.
    sql: (s: string) => `
      CREATE TABLE ${s}.offload_cycles (
        cycle_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('success', 'partial', 'failed')),
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        duration_seconds double precision NOT NULL CHECK (duration_seconds >= 0),
        total_rows bigint NOT NULL CHECK (total_rows >= 0),
        tables_succeeded integer NOT NULL CHECK (tables_succeeded >= 0),
        tables_failed integer NOT NULL CHECK (tables_failed >= 0),
        tables_skipped integer NOT NULL CHECK (tables_skipped >= 0)
      );
      CREATE INDEX offload_cycles_started ON ${s}.offload_cycles (started_at DESC)`,
  },
  {
    version: 5,
    name: 'create_iceberg_sql_catalog',
    // The tables of `runner.catalog: sql`, beside the watermarks so the
    // snapshot and the watermark commit in one transaction. Created for every
    // store: two empty tables cost nothing, and switching catalogs later
    // needs no second migration step.
    sql: (s: string) => sqlCatalogDdl(s),
  },
]);

export interface MigrateOptions {
  /** Schema to create the tables in; created if missing. Defaults to `public`. */
  readonly schema?: string;
  /** Defaults to `WATERMARK_MIGRATIONS`; replaceable for tests of the runner itself. */
  readonly migrations?: readonly WatermarkMigration[];
}

/** Any two processes migrating the same schema serialise on this lock (key derived from the schema name). */
const LOCK_NAMESPACE = 'coldtier_schema_migrations:';

/**
 * Brings the watermark schema up to date. Safe to call at every start and
 * from several processes at once: each migration runs in its own transaction
 * under a transaction-scoped advisory lock and re-checks whether it was
 * applied meanwhile. Returns the versions this call applied (empty when the
 * schema was current).
 */
export async function migrate(pool: Pick<PgPool, 'connect'>, options: MigrateOptions = {}): Promise<readonly number[]> {
  const name = options.schema ?? DEFAULT_WATERMARK_SCHEMA;
  const schema = quotePostgres(name);
  const migrations = [...(options.migrations ?? WATERMARK_MIGRATIONS)].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  for (const migration of migrations) {
    const didApply = await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_NAMESPACE + name]);
      await ensureBookkeeping(client, name, schema);
      const done = await client.query(`SELECT 1 FROM ${schema}.coldtier_schema_migrations WHERE version = $1`, [migration.version]);
      if (done.rowCount) return false;
      await client.query(migration.sql(schema));
      await client.query(
        `INSERT INTO ${schema}.coldtier_schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`,
        [migration.version, migration.name],
      );
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

/**
 * Versions not yet applied to `schema`, without changing anything: a
 * production scheduler refuses to start on an old schema rather than
 * migrating behind the operator's back.
 */
export async function pendingMigrations(db: PgQueryable, options: MigrateOptions = {}): Promise<readonly number[]> {
  const schema = quotePostgres(options.schema ?? DEFAULT_WATERMARK_SCHEMA);
  const table = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${schema}.coldtier_schema_migrations`]);
  const applied = new Set<number>();
  if (table.rows[0]?.['present'] === true) {
    const result = await db.query(`SELECT version FROM ${schema}.coldtier_schema_migrations`);
    for (const row of result.rows) applied.add(Number(row['version']));
  }
  return (options.migrations ?? WATERMARK_MIGRATIONS).map((m) => m.version).filter((v) => !applied.has(v)).sort((a, b) => a - b);
}

/**
 * Runs under the advisory lock, so two first runs cannot both create the
 * bookkeeping table. Objects are looked up rather than created with
 * `IF NOT EXISTS`, which demands CREATE privilege even when nothing is created.
 */
async function ensureBookkeeping(client: PgQueryable, name: string, schema: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
  if (!exists.rowCount) await client.query(`CREATE SCHEMA ${schema}`);
  const table = await client.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${schema}.coldtier_schema_migrations`]);
  if (table.rows[0]?.['present'] === true) return;
  await client.query(`
    CREATE TABLE ${schema}.coldtier_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL
    )`);
}
