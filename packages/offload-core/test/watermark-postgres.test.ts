import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, openTestPool } from '@coldtier/test-support';
import type { TestDatabase } from '@coldtier/test-support';
import { ManualClock } from '../src/clock.js';
import { IdentifierError, LeaseUnavailableError, WatermarkConflictError } from '../src/errors.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';
import { WATERMARK_MIGRATIONS, migrate, pendingMigrations } from '../src/watermark/migrations.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';

let database: TestDatabase;
const pools: pg.Pool[] = [];
let schemas = 0;

function newPool(): pg.Pool {
  const pool = openTestPool({ connectionString: database.url, max: 3 });
  pools.push(pool);
  return pool;
}

function nextSchema(): string {
  return `store_${++schemas}`;
}

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database?.drop();
});

const ALL_VERSIONS = WATERMARK_MIGRATIONS.map((m) => m.version);

async function recordedVersions(pool: pg.Pool, schema: string): Promise<number[]> {
  const result = await pool.query<{ version: number }>(`SELECT version FROM "${schema}".coldtier_schema_migrations ORDER BY version`);
  return result.rows.map((r) => r.version);
}

describe('migrate', () => {
  it('applies every migration once and nothing on a second call', async () => {
    const pool = newPool();
    const schema = nextSchema();
    expect(await migrate(pool, { schema })).toEqual(ALL_VERSIONS);
    expect(await migrate(pool, { schema })).toEqual([]);
    expect(await recordedVersions(pool, schema)).toEqual(ALL_VERSIONS);
    const names = await pool.query<{ name: string }>(`SELECT name FROM "${schema}".coldtier_schema_migrations ORDER BY version`);
    expect(names.rows.map((r) => r.name)).toEqual(WATERMARK_MIGRATIONS.map((m) => m.name));
  });

  it('reports pending migrations without applying them', async () => {
    const pool = newPool();
    const schema = nextSchema();
    expect(await pendingMigrations(pool, { schema })).toEqual(ALL_VERSIONS);
    expect(await pendingMigrations(pool, { schema })).toEqual(ALL_VERSIONS);
    await migrate(pool, { schema, migrations: WATERMARK_MIGRATIONS.slice(0, 1) });
    expect(await pendingMigrations(pool, { schema })).toEqual(ALL_VERSIONS.slice(1));
    await migrate(pool, { schema });
    expect(await pendingMigrations(pool, { schema })).toEqual([]);
  });

  it('lets several processes migrate at once, recording each version once', async () => {
    const schema = nextSchema();
    const racers = [newPool(), newPool(), newPool()];
    const results = await Promise.all(racers.map((pool) => migrate(pool, { schema })));
    expect(results.flat().sort((a, b) => a - b)).toEqual(ALL_VERSIONS);
    expect(await recordedVersions(racers[0]!, schema)).toEqual(ALL_VERSIONS);
  });

  it('migrates the public schema by default, for a store without a schema option', async () => {
    const pool = newPool();
    expect(await migrate(pool)).toEqual(ALL_VERSIONS);
    const store = new PostgresWatermarkStore({ pool });
    await store.ensureTables(['bronze_trades_binance']);
    expect((await store.get('bronze_trades_binance'))?.cursor).toEqual(INITIAL_CURSOR);
  });

  it('rolls a failing migration back entirely and keeps the ones before it', async () => {
    const pool = newPool();
    const schema = nextSchema();
    const broken = [
      { version: 1, name: 'good', sql: (s: string) => `CREATE TABLE ${s}.good (id int)` },
      { version: 2, name: 'broken', sql: (s: string) => `CREATE TABLE ${s}.half (id int); SELECT no_such_function()` },
    ];
    await expect(migrate(pool, { schema, migrations: broken })).rejects.toThrow(/no_such_function/);
    expect(await recordedVersions(pool, schema)).toEqual([1]);
    const half = await pool.query(`SELECT to_regclass('"${schema}".half') AS t`);
    expect(half.rows[0]?.t).toBeNull();
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    const pool = newPool();
    await expect(migrate(pool, { schema: 'x"; DROP TABLE y; --' })).rejects.toBeInstanceOf(IdentifierError);
    expect(() => new PostgresWatermarkStore({ pool, schema: 'a.b' })).toThrow(IdentifierError);
  });
});

describe('PostgresWatermarkStore across connections', () => {
  async function storesOnOneSchema(count: number, clock: ManualClock): Promise<PostgresWatermarkStore[]> {
    const schema = nextSchema();
    const first = newPool();
    await migrate(first, { schema });
    const stores = [new PostgresWatermarkStore({ pool: first, clock, schema })];
    for (let i = 1; i < count; i++) stores.push(new PostgresWatermarkStore({ pool: newPool(), clock, schema }));
    return stores;
  }

  it('gives a contended lease to exactly one of two racing pools', async () => {
    const clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));
    const [a, b] = await storesOnOneSchema(2, clock);
    for (let round = 0; round < 10; round++) {
      const table = `race_${round}`;
      const settled = await Promise.allSettled([a!.acquireLease(table, 'worker-a', 60_000), b!.acquireLease(table, 'worker-b', 60_000)]);
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s) => s.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const reason: unknown = lost[0]?.reason;
      expect(reason).toBeInstanceOf(LeaseUnavailableError);
      expect((reason as LeaseUnavailableError).holder).toBe(won[0]?.value.owner);
      expect(won[0]?.value.token).toBe(1n);
    }
  });

  it('lets exactly one of two racing completions move the watermark', async () => {
    const clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));
    const [a, b] = await storesOnOneSchema(2, clock);
    await a!.ensureTables(['t']);
    const lease = await a!.acquireLease('t', 'worker-a', 60_000);
    const window = { after: INITIAL_CURSOR, untilMicros: 10_000_000n };
    await a!.startRun(lease, { runId: 'r1', window });
    await a!.startRun(lease, { runId: 'r2', window });
    const to = (sequence: bigint): Cursor => ({ timestampMicros: 5_000_000n, sequence, tieBreakers: [] });
    const settled = await Promise.allSettled([
      a!.completeRun(lease, { runId: 'r1', window, cursor: to(1n), rows: 1, durationSeconds: 1, snapshotId: null }),
      b!.completeRun(lease, { runId: 'r2', window, cursor: to(2n), rows: 2, durationSeconds: 1, snapshotId: null }),
    ]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const rejected = settled.find((s) => s.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(WatermarkConflictError);
  });
});

describe('PostgresWatermarkStore column precision', () => {
  async function freshStore(): Promise<{ store: PostgresWatermarkStore; pool: pg.Pool; schema: string }> {
    const pool = newPool();
    const schema = nextSchema();
    await migrate(pool, { schema });
    const store = new PostgresWatermarkStore({ pool, clock: new ManualClock(new Date('2026-11-21T14:00:00Z')), schema });
    await store.ensureTables(['t']);
    return { store, pool, schema };
  }

  it('round-trips microsecond timestamps exactly, in the watermark and the run history', async () => {
    const { store, pool, schema } = await freshStore();
    const lease = await store.acquireLease('t', 'w', 60_000);
    for (const timestampMicros of [1_795_270_020_000_001n, 1_795_270_020_123_456n, 1_795_270_020_123_457n]) {
      const after = (await store.get('t'))!.cursor;
      const window = { after, untilMicros: timestampMicros + 1n };
      const runId = `micros-${timestampMicros}`;
      await store.startRun(lease, { runId, window });
      await store.completeRun(lease, { runId, window, cursor: { timestampMicros, sequence: 1n, tieBreakers: [] }, rows: 1, durationSeconds: 1, snapshotId: null });
      expect((await store.get('t'))?.cursor.timestampMicros).toBe(timestampMicros);
      expect((await store.recentRuns({ table: 't', limit: 1 }))[0]?.window).toEqual(window);
    }
    const stored = await pool.query<{ micros: string }>(
      `SELECT to_char(last_offload_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS micros FROM "${schema}".offload_watermarks`,
    );
    expect(stored.rows[0]?.micros).toBe('2026-11-21T14:07:00.123457');
  });

  it('round-trips the UInt64 maximum as the sequence', async () => {
    const { store, pool, schema } = await freshStore();
    const max = 18446744073709551615n;
    expect(await store.fastForward('t', { timestampMicros: 1n, sequence: max, tieBreakers: [max, 'z'] })).toBe(true);
    expect((await store.get('t'))?.cursor).toEqual({ timestampMicros: 1n, sequence: max, tieBreakers: [max, 'z'] });
    const stored = await pool.query<{ seq: string }>(`SELECT last_offload_max_sequence::text AS seq FROM "${schema}".offload_watermarks`);
    expect(stored.rows[0]?.seq).toBe('18446744073709551615');
  });
});
