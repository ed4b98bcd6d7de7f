import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { tableSchema } from '../src/config/index.js';
import type { Layer, RetryPolicy, TableConfig } from '../src/config/index.js';
import { OffloadEvents } from '../src/cycle/events.js';
import type { OffloadEvent } from '../src/cycle/events.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import type { CycleOptions } from '../src/cycle/orchestrator.js';
import { ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import type { ScriptStep } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';

function table(name: string, layer: Layer = 'bronze', extra: { dependsOn?: string[]; timeoutSeconds?: number } = {}): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer, timestampColumn: 'ts', sequenceColumn: 'seq', ...extra });
  return { ...parsed, name, partitionBy: [] };
}

const cursorAt = (iso: string, sequence: bigint): Cursor => ({ timestampMicros: microsFromDate(new Date(iso)), sequence, tieBreakers: [] });
const c1 = cursorAt('2026-11-21T14:00:00Z', 10n);
const c2 = cursorAt('2026-11-21T14:05:00Z', 20n);
const succeed = (maxCursor: Cursor, rows = 3): ScriptStep => ({ kind: 'succeed', rows, maxCursor });
const connection: ScriptStep = { kind: 'fail', errorType: 'connection', message: 'ClickHouse unreachable' };
const policy: RetryPolicy = { retries: 2, minDelaySeconds: 0.01, maxDelaySeconds: 1, factor: 2, jitter: true };

interface Setup {
  readonly clock: ManualClock;
  readonly store: InMemoryWatermarkStore;
  readonly seen: OffloadEvent[];
  readonly delays: number[];
  readonly options: (tables: TableConfig[], runner: ScriptedJobRunner, extra?: Partial<CycleOptions>) => CycleOptions;
}

function setup(): Setup {
  const clock = new ManualClock(new Date('2026-11-21T14:15:00Z'));
  const store = new InMemoryWatermarkStore({ clock });
  const events = new OffloadEvents();
  const seen: OffloadEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const delays: number[] = [];
  const options = (tables: TableConfig[], runner: ScriptedJobRunner, extra: Partial<CycleOptions> = {}): CycleOptions => ({
    tables,
    store,
    runner,
    clock,
    events,
    concurrency: 2,
    retry: policy,
    lateDataBufferMinutes: 5,
    leaseOwner: 'scheduler-a',
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...extra,
  });
  return { clock, store, seen, delays, options };
}

const typesFor = (seen: readonly OffloadEvent[], name: string) => seen.filter((e) => 'table' in e && e.table === name).map((e) => e.type);

describe('cycle failures', () => {
  it('skips the dependents of a failed table, naming it, and reports partial', async () => {
    const { options, seen } = setup();
    const tables = [table('bronze_a'), table('bronze_b'), table('silver_s', 'silver', { dependsOn: ['bronze_a'] }), table('gold_g', 'gold')];
    const runner = new ScriptedJobRunner({
      scripts: { bronze_a: [{ kind: 'fail', errorType: 'process_error', message: 'query failed' }], bronze_b: [succeed(c1)] },
    });
    const report = await runCycle(options(tables, runner));

    expect(report.status).toBe('partial');
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['bronze_a', 'failed'],
      ['bronze_b', 'success'],
      ['silver_s', 'skipped'],
      ['gold_g', 'skipped'],
    ]);
    expect(report.tables[2]).toMatchObject({ reason: 'dependency_failed', detail: 'depends on bronze_a, which failed' });
    expect(report.tables[3]).toMatchObject({ reason: 'dependency_failed', detail: 'depends on silver_s, which was skipped' });
    expect(runner.jobsFor('silver_s')).toEqual([]);
    expect(seen.find((e) => e.type === 'table_skipped' && e.table === 'silver_s')).toMatchObject({ reason: 'dependency_failed' });
    expect(report.totalRows).toBe(3);
  });

  it('retries a retryable failure with backoff and advances the watermark once', async () => {
    const { options, seen, delays, store } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [connection, connection, succeed(c1, 5)] } });
    const report = await runCycle(options([table('t')], runner));

    expect(report.status).toBe('success');
    expect(report.tables[0]).toMatchObject({ status: 'success', attempts: 3, rows: 5, watermark: c1 });
    expect(typesFor(seen, 't')).toEqual(['table_started', 'table_retrying', 'table_started', 'table_retrying', 'table_started', 'table_succeeded']);
    expect(seen.filter((e) => e.type === 'table_retrying')).toMatchObject([
      { attempt: 1, errorType: 'connection', message: 'ClickHouse unreachable', delayMs: 15 },
      { attempt: 2, errorType: 'connection', delayMs: 30 },
    ]);
    // 10 ms × factor 2 per retry × jitter 1.5 (random 0.5).
    expect(delays).toEqual([15, 30]);
    expect(runner.jobsFor('t').map((j) => j.attempt)).toEqual([1, 2, 3]);
    // Every attempt works on the same window under the same run id.
    expect(new Set(runner.jobsFor('t').map((j) => j.runId)).size).toBe(1);
    const runs = await store.recentRuns({ table: 't' });
    expect(runs).toMatchObject([{ outcome: 'success', rows: 5 }]);
    expect(await store.get('t')).toMatchObject({ cursor: c1, status: 'success', failureCount: 0 });
  });

  it('does not retry a failure that is not retryable', async () => {
    const { options, seen, delays } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [{ kind: 'fail', errorType: 'process_error' }, succeed(c1)] } });
    const report = await runCycle(options([table('t')], runner));

    expect(report.status).toBe('failed');
    expect(report.tables[0]).toMatchObject({ status: 'failed', errorType: 'process_error', attempts: 1 });
    expect(runner.jobsFor('t')).toHaveLength(1);
    expect(typesFor(seen, 't')).toEqual(['table_started', 'table_failed']);
    expect(delays).toEqual([]);
  });

  it('gives up when the retries are used up', async () => {
    const { options } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [connection, connection, connection, succeed(c1)] } });
    const report = await runCycle(options([table('t')], runner));
    expect(report.tables[0]).toMatchObject({ status: 'failed', errorType: 'connection', attempts: 3 });
    expect(runner.jobsFor('t')).toHaveLength(3);
  });

  it('does not retry when the backoff would pass the table timeout', async () => {
    const { options, seen, delays } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [connection, succeed(c1)] } });
    const slow: RetryPolicy = { ...policy, minDelaySeconds: 5, maxDelaySeconds: 60 };
    const report = await runCycle(options([table('t', 'bronze', { timeoutSeconds: 2 })], runner, { retry: slow }));
    expect(report.tables[0]).toMatchObject({ status: 'failed', errorType: 'connection', attempts: 1 });
    expect(delays).toEqual([]);
    expect(typesFor(seen, 't')).not.toContain('table_retrying');
  });

  it('does not retry when the backoff would pass the cycle deadline', async () => {
    const { options, delays } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [connection, succeed(c1)] } });
    const report = await runCycle(options([table('t')], runner, { cycleDeadlineMs: 10 }));
    expect(report.tables[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delays).toEqual([]);
  });

  it('leaves the watermark where it was after a failure and counts it', async () => {
    const { options, store, clock } = setup();
    const runner = new ScriptedJobRunner({
      scripts: { t: [succeed(c1), { kind: 'fail', errorType: 'process_error', message: 'Code: 241. Memory limit exceeded' }] },
    });
    await runCycle(options([table('t')], runner));
    clock.advance(15 * 60_000);
    const report = await runCycle(options([table('t')], runner));

    expect(report.tables[0]).toMatchObject({ status: 'failed', window: { after: c1 } });
    expect(await store.get('t')).toMatchObject({
      cursor: c1,
      status: 'failed',
      failureCount: 1,
      lastErrorMessage: 'Code: 241. Memory limit exceeded',
    });
    expect((await store.recentRuns({ table: 't' })).map((r) => r.outcome)).toEqual(['failed', 'success']);
  });

  it('maps an exception that is not a JobFailedError to a crash', async () => {
    const { options } = setup();
    const runner = { run: async () => Promise.reject(new RangeError('bad bigint')) };
    const report = await runCycle({ ...options([table('t')], new ScriptedJobRunner()), runner });
    expect(report.tables[0]).toMatchObject({ status: 'failed', errorType: 'crash', message: 'bad bigint' });
  });

  it('moves the watermark across cycles from where the last run stopped', async () => {
    const { options, store } = setup();
    const runner = new ScriptedJobRunner({ scripts: { t: [succeed(c1), succeed(c2)] } });
    await runCycle(options([table('t')], runner));
    await runCycle(options([table('t')], runner));
    expect(runner.jobsFor('t').map((j) => j.window.after)).toEqual([INITIAL_CURSOR, c1]);
    expect((await store.get('t'))?.cursor).toEqual(c2);
  });
});
