import { describe, expect, it, vi } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { OffloadEvents } from '../src/cycle/events.js';
import type { OffloadEvent } from '../src/cycle/events.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import type { CycleOptions } from '../src/cycle/orchestrator.js';
import { ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';

function table(name: string, timeoutSeconds = 600): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq', timeoutSeconds });
  return { ...parsed, name, partitionBy: [] };
}

const retry: RetryPolicy = { retries: 2, minDelaySeconds: 0.001, maxDelaySeconds: 0.001, factor: 2, jitter: false };

function setup(tables: TableConfig[], extra: Partial<CycleOptions> = {}) {
  const store = new InMemoryWatermarkStore();
  const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'hang' }] });
  const events = new OffloadEvents();
  const seen: OffloadEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const options: CycleOptions = { tables, store, runner, events, concurrency: 2, retry, lateDataBufferMinutes: 5, leaseOwner: 'scheduler-a', ...extra };
  return { store, runner, seen, options };
}

async function expectLeaseFree(store: InMemoryWatermarkStore, name: string): Promise<void> {
  await expect(store.acquireLease(name, 'scheduler-b', 60_000)).resolves.toMatchObject({ owner: 'scheduler-b' });
}

describe('stopping a cycle', () => {
  it('aborts running jobs on the signal, skips queued tables and releases every lease', async () => {
    const controller = new AbortController();
    const { store, runner, seen, options } = setup([table('t1'), table('t2'), table('t3')], { signal: controller.signal });
    const cycle = runCycle(options);
    await vi.waitFor(() => expect(runner.jobs.map((j) => j.table)).toEqual(['t1', 't2']));
    controller.abort(new Error('SIGTERM'));
    const report = await cycle;

    expect(report.status).toBe('failed');
    expect(report.tables).toMatchObject([
      { table: 't1', status: 'failed', errorType: 'timeout', attempts: 1 },
      { table: 't2', status: 'failed', errorType: 'timeout', attempts: 1 },
      { table: 't3', status: 'skipped', reason: 'aborted' },
    ]);
    expect(report.tables[0]).toMatchObject({ message: expect.stringContaining('SIGTERM') });
    expect(runner.jobs.map((j) => j.outcome)).toEqual(['aborted', 'aborted']);
    // A stopped attempt is not retried, although timeouts are retryable failures.
    expect(seen.some((e) => e.type === 'table_retrying')).toBe(false);
    for (const name of ['t1', 't2']) {
      expect(await store.get(name)).toMatchObject({ cursor: INITIAL_CURSOR, status: 'failed', failureCount: 1 });
      await expectLeaseFree(store, name);
    }
  });

  it('skips every table when the signal is already aborted', async () => {
    const { runner, options } = setup([table('t1')], { signal: AbortSignal.abort() });
    const report = await runCycle(options);
    expect(report.tables).toMatchObject([{ status: 'skipped', reason: 'aborted' }]);
    expect(runner.jobs).toEqual([]);
  });

  it('stops running jobs at the cycle deadline and skips the tables still waiting', async () => {
    const { store, options } = setup([table('t1'), table('t2')], { concurrency: 1, cycleDeadlineMs: 50 });
    const report = await runCycle(options);
    expect(report.tables).toMatchObject([
      { status: 'failed', errorType: 'timeout', message: expect.stringContaining('cycle deadline') },
      { status: 'skipped', reason: 'deadline' },
    ]);
    await expectLeaseFree(store, 't1');
  });

  it('stops a job that exceeds its table timeout without holding up the others', async () => {
    const { store, runner, options } = setup([table('slow', 0.05), table('quick')]);
    runner.script('quick', { kind: 'succeed' });
    const report = await runCycle(options);
    expect(report.status).toBe('partial');
    expect(report.tables).toMatchObject([
      { table: 'slow', status: 'failed', errorType: 'timeout', message: 'exceeded its timeout of 0.05s', attempts: 1 },
      { table: 'quick', status: 'success' },
    ]);
    await expectLeaseFree(store, 'slow');
  });
});
