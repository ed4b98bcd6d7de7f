import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, openTestPool } from '@coldtier/test-support';
import type { TestDatabase } from '@coldtier/test-support';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { OffloadEvents } from '../src/cycle/events.js';
import { CycleOrchestrator } from '../src/cycle/orchestrator.js';
import type { SkipReason } from '../src/cycle/report.js';
import { InMemorySource, ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import type { SourceRow } from '../src/testing/scripted-runner.js';
import { formatCursor } from '../src/watermark/cursor.js';
import { migrate } from '../src/watermark/migrations.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const TABLES = ['bronze_trades_binance', 'bronze_trades_kraken', 'bronze_trades_coinbase'];
const ROUNDS = 6;
const ROWS_PER_ROUND = 5;
const retry: RetryPolicy = { retries: 1, minDelaySeconds: 0.001, maxDelaySeconds: 0.001, factor: 2, jitter: true };

let database: TestDatabase;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < 2; i++) pools.push(openTestPool({ connectionString: database.url, max: 4 }));
  await migrate(pools[0]!);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database?.drop();
});

/** Rows of one round: timestamps ten minutes back, so they are inside the window of any later cycle. */
function roundRows(round: number, base: bigint): SourceRow[] {
  return Array.from({ length: ROWS_PER_ROUND }, (_, i) => ({
    // Two rows per timestamp, so later rows share the watermark's timestamp.
    cursor: { timestampMicros: base + BigInt(round * 1_000_000 + Math.floor(i / 2)), sequence: BigInt(round * 100 + i), tieBreakers: [] },
  }));
}

describe('two schedulers on one PostgreSQL watermark store', () => {
  it('offload every source row exactly once and never run one table twice at once', async () => {
    const source = new InMemorySource();
    const skips: SkipReason[] = [];
    const orchestrators = pools.map((pool, i) => {
      const events = new OffloadEvents();
      events.subscribe((e) => {
        if (e.type === 'table_skipped') skips.push(e.reason);
      });
      // A fresh retryable failure now and then exercises retries under contention.
      const runner = new ScriptedJobRunner({
        source,
        scripts: { [TABLES[i]!]: [{ kind: 'fail', errorType: 'connection' }] },
        otherwise: [{ kind: 'delay', ms: 20 }, { kind: 'offload' }],
      });
      return new CycleOrchestrator({
        tables: TABLES.map(table),
        store: new PostgresWatermarkStore({ pool }),
        runner,
        events,
        concurrency: 3,
        retry,
        lateDataBufferMinutes: 0,
        leaseOwner: `scheduler-${i}`,
      });
    });

    const base = BigInt(Date.now() - 10 * 60_000) * 1000n;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of TABLES) source.append(name, roundRows(round, base));
      const reports = await Promise.all(orchestrators.map((o) => o.runCycle()));
      for (const report of reports) expect(report.tables.every((t) => t.status !== 'failed')).toBe(true);
    }
    // One more cycle each, so rows of the last round that both schedulers skipped are drained.
    for (const o of orchestrators) await o.runCycle();

    // The schedulers did contend: some runs found the other's lease.
    expect(skips.length).toBeGreaterThan(0);
    expect(skips.every((r) => r === 'lease_held')).toBe(true);
    const store = new PostgresWatermarkStore({ pool: pools[0]! });
    for (const name of TABLES) {
      const committed = source.committed(name).map((r) => formatCursor(r.cursor));
      const expected = source.rows(name).map((r) => formatCursor(r.cursor));
      expect(committed).toHaveLength(expected.length);
      expect(new Set(committed)).toEqual(new Set(expected));
      expect(source.maxConcurrentJobs(name)).toBe(1);

      const runs = [...(await store.recentRuns({ table: name }))].reverse();
      expect(runs.every((r) => r.outcome === 'success')).toBe(true);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i]!.startedAt.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt!.getTime());
      }
      expect((await store.get(name))?.cursor).toEqual(source.rows(name).at(-1)?.cursor);
    }
  });
});
