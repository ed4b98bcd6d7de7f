import { silentLogger, type MaintenanceReport, type TableConfig, type TableMaintenanceResult } from '@coldtier/offload-core';
import { createMaintenanceMetrics } from '@coldtier/offload-metrics';
import { describe, expect, it, vi } from 'vitest';
import { MaintenanceSchedule } from '../src/runtime/maintenance-schedule.js';

const HOUR = 3_600_000;
const tables = [{ name: 'a' }, { name: 'b' }] as unknown as TableConfig[];
const stats = { snapshots: 3, manifests: 1, dataFiles: 2, partitions: 1, maxFilesPerPartition: 2, dataBytes: 10 };
const report: MaintenanceReport = {
  table: 'cold.x',
  dryRun: false,
  before: stats,
  after: stats,
  actions: [{ action: 'expire_snapshots', status: 'success', durationSeconds: 0.5, bytes: 0, detail: 'x' }],
};

function schedule(run: (table: TableConfig, signal: AbortSignal) => Promise<TableMaintenanceResult>, now: { t: number }) {
  const metrics = createMaintenanceMetrics();
  const s = new MaintenanceSchedule({ tables, intervalMs: 24 * HOUR, marginMs: 1000, run, metrics, logger: silentLogger, now: () => now.t });
  return { s, registry: metrics.registry };
}

/** Waits for the background maintenance to reach `expected` calls and go idle (a new afterCycle starts only when idle). */
async function settle(calls: readonly string[], expected: readonly string[]): Promise<void> {
  await vi.waitFor(() => expect(calls).toEqual(expected));
  await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the daemon maintenance schedule', () => {
  it('maintains each table once per interval, retries a busy one after the next cycle, and records metrics', async () => {
    const now = { t: 0 };
    const calls: string[] = [];
    let busy = true;
    const { s, registry } = schedule(async (table) => {
      calls.push(table.name);
      if (table.name === 'b' && busy) return { status: 'busy', reason: 'offloading' };
      return { status: 'done', report };
    }, now);
    s.afterCycle(new Date(now.t + 15 * 60_000));
    await settle(calls, ['a', 'b']);
    busy = false;
    now.t += 15 * 60_000;
    s.afterCycle(new Date(now.t + 15 * 60_000));
    // a is not due again; b was busy and is retried.
    await settle(calls, ['a', 'b', 'b']);
    now.t += 24 * HOUR;
    s.afterCycle(new Date(now.t + 15 * 60_000));
    await settle(calls, ['a', 'b', 'b', 'a', 'b']);
    await s.stop();
    const text = await registry.metrics();
    expect(text).toContain('offload_maintenance_runs_total{table="a",action="expire_snapshots",status="success"} 2');
    expect(text).toContain('offload_maintenance_runs_total{table="b",action="expire_snapshots",status="success"} 2');
  });

  it('stops at the next cycle: the run is aborted before the tick and the table stays due', async () => {
    const now = { t: Date.now() };
    const seen: AbortSignal[] = [];
    const { s } = schedule(
      (_table, signal) =>
        new Promise((_, reject) => {
          seen.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
      now,
    );
    // The next cycle is due in 1.05 s, the margin is 1 s: 50 ms of maintenance.
    s.afterCycle(new Date(now.t + 1050));
    await vi.waitFor(() => expect(seen[0]?.aborted).toBe(true));
    await s.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.aborted).toBe(true);
    // No time left before the next cycle: nothing starts.
    s.afterCycle(new Date(now.t + 500));
    expect(seen).toHaveLength(1);
  });
});
