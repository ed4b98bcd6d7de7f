import { describe, expect, it } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import { DatabaseError, databaseErrorType, errorTypeOf } from '../src/errors.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import type { Lease, RunSuccess, WatermarkState } from '../src/watermark/store.js';

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('database failures read as connection or timeout', () => {
  it.each([
    [pgError('terminating connection due to administrator command', '57P01'), 'connection'],
    [pgError('the database system is starting up', '57P03'), 'connection'],
    [pgError('connection failure', '08006'), 'connection'],
    [pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'connection'],
    [pgError('Connection terminated unexpectedly'), 'connection'],
    [pgError('timeout exceeded when trying to connect'), 'timeout'],
    [pgError('Query read timeout'), 'timeout'],
    [pgError('canceling statement due to statement timeout', '57014'), 'timeout'],
  ] as const)('%s → %s', (error, type) => {
    expect(databaseErrorType(error)).toBe(type);
    expect(errorTypeOf(new Error('commit failed', { cause: error }))).toBe(type);
  });

  it('leaves SQL errors and everything else a crash', () => {
    expect(databaseErrorType(pgError('relation "x" does not exist', '42P01'))).toBeUndefined();
    expect(errorTypeOf(pgError('duplicate key', '23505'))).toBe('crash');
    expect(errorTypeOf(new DatabaseError('timeout', 'slow'))).toBe('timeout');
  });
});

/** A store whose database goes away right when the watermark should advance. */
class OutageAtCompletion extends InMemoryWatermarkStore {
  override async completeRun(_lease: Lease, _run: RunSuccess): Promise<WatermarkState> {
    throw pgError('terminating connection due to administrator command', '57P01');
  }
}

describe('PostgreSQL failing after the Iceberg commit', () => {
  it('fails the table as a retryable connection failure, not a crash', async () => {
    const parsed = tableSchema.parse({ source: 'k2.t1', target: 'cold.t1', layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
    const table: TableConfig = { ...parsed, name: 't1', partitionBy: [] };
    const retry: RetryPolicy = { retries: 0, minDelaySeconds: 0, maxDelaySeconds: 0, factor: 2, jitter: false };
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'succeed' }] });
    const report = await runCycle({ tables: [table], store: new OutageAtCompletion(), runner, retry, lateDataBufferMinutes: 5, concurrency: 1, leaseOwner: 'a' });
    expect(report.tables).toMatchObject([{ status: 'failed', errorType: 'connection', message: expect.stringContaining('administrator command') }]);
  });
});
