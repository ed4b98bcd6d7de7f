import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig } from '../src/config/index.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import { LeaseUnavailableError } from '../src/errors.js';
import { ScriptedJobRunner, createGate } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const retry: RetryPolicy = { retries: 0, minDelaySeconds: 0.001, maxDelaySeconds: 0.001, factor: 2, jitter: false };
const common = { retry, lateDataBufferMinutes: 5, concurrency: 2 };

afterEach(() => {
  vi.useRealTimers();
});

describe('cycle leases', () => {
  it('skips a table whose lease another owner holds and leaves that lease alone', async () => {
    const store = new InMemoryWatermarkStore();
    await store.ensureTables(['t1', 't2']);
    const held = await store.acquireLease('t1', 'scheduler-b', 60_000);
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'succeed' }] });
    const report = await runCycle({ ...common, tables: [table('t1'), table('t2')], store, runner, leaseOwner: 'scheduler-a' });

    expect(report.status).toBe('partial');
    expect(report.tables).toMatchObject([
      { table: 't1', status: 'skipped', reason: 'lease_held', detail: expect.stringContaining('scheduler-b') },
      { table: 't2', status: 'success' },
    ]);
    expect(runner.jobsFor('t1')).toEqual([]);
    await expect(store.acquireLease('t1', 'scheduler-c', 60_000)).rejects.toThrow(LeaseUnavailableError);
    await store.releaseLease(held);
  });

  it('renews the lease while a run outlasts its time to live', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock(new Date('2026-11-21T14:15:00Z'));
    const store = new InMemoryWatermarkStore({ clock });
    const gate = createGate();
    const runner = new ScriptedJobRunner({ scripts: { t1: [{ kind: 'wait', until: gate.opened }, { kind: 'succeed' }] } });
    const cycle = runCycle({ ...common, tables: [table('t1')], store, runner, clock, leaseOwner: 'scheduler-a', leaseTtlMs: 900 });
    await vi.waitFor(() => expect(runner.jobs).toHaveLength(1));

    // Five lease lifetimes pass, a renewal tick (every 300 ms) inside each.
    for (let i = 0; i < 15; i++) {
      clock.advance(300);
      await vi.advanceTimersByTimeAsync(300);
    }
    await expect(store.acquireLease('t1', 'scheduler-b', 60_000)).rejects.toThrow(LeaseUnavailableError);
    gate.open();
    const report = await cycle;
    expect(report.tables).toMatchObject([{ status: 'success' }]);
  });

  it('stops the run when the lease is taken over, and does not advance the watermark', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock(new Date('2026-11-21T14:15:00Z'));
    const store = new InMemoryWatermarkStore({ clock });
    const runner = new ScriptedJobRunner({ scripts: { t1: [{ kind: 'hang' }] } });
    const cycle = runCycle({ ...common, tables: [table('t1')], store, runner, clock, leaseOwner: 'scheduler-a', leaseTtlMs: 900 });
    await vi.waitFor(() => expect(runner.jobs).toHaveLength(1));

    // The process stalls past the lease's expiry; another scheduler takes it.
    clock.advance(1_000);
    await store.acquireLease('t1', 'scheduler-b', 60_000);
    await vi.advanceTimersByTimeAsync(300);
    const report = await cycle;
    expect(report.tables).toMatchObject([{ status: 'failed', errorType: 'crash', message: expect.stringContaining('lease lost') }]);
    expect(runner.jobs[0]?.outcome).toBe('aborted');
    expect((await store.get('t1'))?.cursor).toEqual(INITIAL_CURSOR);
  });

  it('takes over at once the live lease of an owner known to be gone, and only that one', async () => {
    const store = new InMemoryWatermarkStore();
    await store.ensureTables(['t1', 't2']);
    await store.acquireLease('t1', 'host:111', 60_000);
    await store.acquireLease('t2', 'other-host:222', 60_000);
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'succeed' }] });
    const isOwnerGone = (owner: string) => owner === 'host:111';
    const report = await runCycle({ ...common, tables: [table('t1'), table('t2')], store, runner, leaseOwner: 'host:333', isOwnerGone });
    expect(report.tables).toMatchObject([
      { table: 't1', status: 'success' },
      { table: 't2', status: 'skipped', reason: 'lease_held', detail: expect.stringMatching(/^table t2 is held until \S+Z by other-host:222$/) },
    ]);
  });

  it('prints no listener-leak warning with 12 tables running at once', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const names = Array.from({ length: 14 }, (_, i) => `t${i}`);
      const gate = createGate();
      const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'wait', until: gate.opened }, { kind: 'succeed' }] });
      const cycle = runCycle({ ...common, concurrency: 14, tables: names.map(table), store: new InMemoryWatermarkStore(), runner, leaseOwner: 'a' });
      await vi.waitFor(() => expect(runner.jobs).toHaveLength(14));
      gate.open();
      expect((await cycle).status).toBe('success');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
  });
});
