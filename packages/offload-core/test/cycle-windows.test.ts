import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { OffloadEvents } from '../src/cycle/events.js';
import type { OffloadEvent } from '../src/cycle/events.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import type { CycleOptions } from '../src/cycle/orchestrator.js';
import { InMemorySource, ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import type { SourceRow } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { formatCursor, microsFromDate } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const retry: RetryPolicy = { retries: 0, minDelaySeconds: 0.001, maxDelaySeconds: 0.001, factor: 2, jitter: false };
const cursor = (hhmm: string, sequence: number): Cursor => ({
  timestampMicros: microsFromDate(new Date(`2026-11-21T${hhmm}:00Z`)),
  sequence: BigInt(sequence),
  tieBreakers: [],
});
const row = (hhmm: string, sequence: number): SourceRow => ({ cursor: cursor(hhmm, sequence) });

function setup(runner: ScriptedJobRunner) {
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));
  const store = new InMemoryWatermarkStore({ clock });
  const events = new OffloadEvents();
  const seen: OffloadEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const options: CycleOptions = { tables: [table('trades')], store, runner, clock, events, concurrency: 1, retry, lateDataBufferMinutes: 5, leaseOwner: 'a' };
  return { clock, store, seen, cycle: () => runCycle(options) };
}

describe('cycle windows', () => {
  it('succeeds on an empty window without calling the runner', async () => {
    const runner = new ScriptedJobRunner();
    const { store, seen, cycle, clock } = setup(runner);
    await store.ensureTables(['trades']);
    // The watermark is past now − 5 min: nothing can be offloaded yet.
    await store.fastForward('trades', cursor('13:57', 3));
    const report = await cycle();

    expect(report.status).toBe('success');
    expect(report.tables).toMatchObject([{ status: 'success', rows: 0, attempts: 0, watermark: cursor('13:57', 3) }]);
    expect(runner.jobs).toEqual([]);
    expect(seen.map((e) => e.type)).toEqual(['cycle_started', 'table_succeeded', 'cycle_finished']);
    const [run] = await store.recentRuns({ table: 'trades' });
    expect(run).toMatchObject({ outcome: 'success', rows: 0, window: { untilMicros: microsFromDate(clock.now()) - 300_000_000n } });
    expect((await store.get('trades'))?.cursor).toEqual(cursor('13:57', 3));
  });

  it('offloads every source row exactly once across cycles, failures and late rows', async () => {
    const source = new InMemorySource({ trades: [row('13:40', 1), row('13:50', 2), row('13:55', 3), row('13:55', 4), row('13:57', 5)] });
    const runner = new ScriptedJobRunner({
      source,
      scripts: { trades: [{ kind: 'offload' }, { kind: 'fail', errorType: 'connection' }] },
    });
    const { clock, store, cycle } = setup(runner);

    expect((await cycle()).tables).toMatchObject([{ rows: 4, watermark: cursor('13:55', 4) }]);
    // Late rows: one shares the watermark's timestamp with a larger sequence.
    source.append('trades', [row('13:55', 6), row('14:05', 7), row('14:09', 8)]);
    clock.advance(15 * 60_000);
    expect((await cycle()).status).toBe('failed');
    clock.advance(15 * 60_000);
    expect((await cycle()).tables).toMatchObject([{ rows: 4, watermark: cursor('14:09', 8) }]);
    source.append('trades', [row('14:26', 9)]);
    clock.advance(15 * 60_000);
    expect((await cycle()).tables).toMatchObject([{ rows: 1, watermark: cursor('14:26', 9) }]);

    const committed = source.committed('trades').map((r) => formatCursor(r.cursor));
    expect(committed).toHaveLength(source.rows('trades').length);
    expect(new Set(committed)).toEqual(new Set(source.rows('trades').map((r) => formatCursor(r.cursor))));
    expect(runner.jobs.map((j) => j.outcome)).toEqual(['succeeded', 'failed', 'succeeded', 'succeeded']);
    expect((await store.get('trades'))?.failureCount).toBe(0);
  });
});
