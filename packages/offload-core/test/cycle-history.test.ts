import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { tableSchema } from '../src/config/index.js';
import type { TableConfig } from '../src/config/index.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import type { CycleOptions } from '../src/cycle/orchestrator.js';
import { ScriptedJobRunner } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { microsFromDate } from '../src/watermark/cursor.js';
import type { CycleRecord, WatermarkStore } from '../src/watermark/store.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const maxCursor = { timestampMicros: microsFromDate(new Date('2026-11-21T14:00:00Z')), sequence: 7n, tieBreakers: [] };

function options(store: WatermarkStore, clock: ManualClock, extra: Partial<CycleOptions> = {}): CycleOptions {
  const runner = new ScriptedJobRunner({ scripts: { ok: [{ kind: 'succeed', rows: 4, maxCursor }], bad: [{ kind: 'fail', errorType: 'process_error' }] } });
  return {
    tables: [table('ok'), table('bad')],
    store,
    runner,
    clock,
    concurrency: 2,
    retry: { retries: 0, minDelaySeconds: 1, maxDelaySeconds: 1, factor: 2, jitter: false },
    lateDataBufferMinutes: 5,
    leaseOwner: 'scheduler-a',
    ...extra,
  };
}

describe('cycle history', () => {
  it('records every finished cycle in the store, with its outcome counts', async () => {
    const clock = new ManualClock(new Date('2026-11-21T14:15:00Z'));
    const store = new InMemoryWatermarkStore({ clock });
    const report = await runCycle(options(store, clock));
    const expected: CycleRecord = {
      cycleId: report.cycleId,
      status: 'partial',
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      durationSeconds: report.durationSeconds,
      totalRows: 4,
      tablesSucceeded: 1,
      tablesFailed: 1,
      tablesSkipped: 0,
    };
    expect(await store.recentCycles()).toEqual([expected]);
  });

  it('leaves the history alone when told to (backfill chunks), and survives a history that cannot be written', async () => {
    const clock = new ManualClock(new Date('2026-11-21T14:15:00Z'));
    const store = new InMemoryWatermarkStore({ clock });
    await runCycle(options(store, clock, { recordHistory: false }));
    expect(await store.recentCycles()).toEqual([]);

    const broken = new (class extends InMemoryWatermarkStore {
      override recordCycle(): Promise<void> {
        return Promise.reject(new Error('disk full'));
      }
    })({ clock });
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (message: string) => warnings.push(message), error: () => {} };
    const report = await runCycle(options(broken, clock, { logger }));
    expect(report.status).toBe('partial');
    expect(warnings).toContain('could not record the cycle in the cycle history');
  });
});
