import { describe, expect, it, vi } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { CycleOrchestrator, runCycle } from '../src/cycle/orchestrator.js';
import { ManualClock } from '../src/clock.js';
import { ScriptedJobRunner, createGate } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { microsFromDate } from '../src/watermark/cursor.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const retry: RetryPolicy = { retries: 0, minDelaySeconds: 0, maxDelaySeconds: 0, factor: 2, jitter: false };

describe('draining a cycle', () => {
  it('lets running tables finish and skips the ones not started yet', async () => {
    const gates = { t1: createGate(), t2: createGate() };
    const runner = new ScriptedJobRunner({
      scripts: {
        t1: [{ kind: 'wait', until: gates.t1.opened }, { kind: 'succeed' }],
        t2: [{ kind: 'wait', until: gates.t2.opened }, { kind: 'succeed' }],
      },
      otherwise: [{ kind: 'succeed' }],
    });
    const drain = new AbortController();
    const cycle = runCycle({
      tables: [table('t1'), table('t2'), table('t3')],
      store: new InMemoryWatermarkStore(),
      runner,
      concurrency: 2,
      retry,
      lateDataBufferMinutes: 5,
      leaseOwner: 'a',
      drain: drain.signal,
    });
    await vi.waitFor(() => expect(runner.jobs.map((j) => j.table)).toEqual(['t1', 't2']));
    drain.abort();
    gates.t1.open();
    gates.t2.open();
    const report = await cycle;
    expect(report.tables).toMatchObject([
      { table: 't1', status: 'success' },
      { table: 't2', status: 'success' },
      { table: 't3', status: 'skipped', reason: 'aborted', detail: expect.stringContaining('draining') },
    ]);
    expect(runner.jobs.map((j) => j.table)).toEqual(['t1', 't2']);
  });

  it('bounds every window by windowEnd when it is earlier than now minus the buffer', async () => {
    const clock = new ManualClock(new Date('2026-11-21T12:00:00Z'));
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'succeed' }] });
    const orchestrator = new CycleOrchestrator({
      tables: [table('t1')],
      store: new InMemoryWatermarkStore({ clock }),
      runner,
      clock,
      concurrency: 1,
      retry,
      lateDataBufferMinutes: 5,
      leaseOwner: 'a',
    });
    const windowEnd = new Date('2026-11-20T00:00:00Z');
    await orchestrator.runCycle(undefined, { windowEnd });
    await orchestrator.runCycle(undefined, { windowEnd: new Date('2026-11-22T00:00:00Z') });
    expect(runner.jobs.map((j) => j.window.untilMicros)).toEqual([
      microsFromDate(windowEnd),
      microsFromDate(new Date('2026-11-21T11:55:00Z')),
    ]);
  });
});
