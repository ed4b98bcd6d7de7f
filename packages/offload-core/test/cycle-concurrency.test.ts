import { describe, expect, it, vi } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { Layer, RetryPolicy, TableConfig } from '../src/config/index.js';
import { OffloadEvents } from '../src/cycle/events.js';
import type { OffloadEvent } from '../src/cycle/events.js';
import { runCycle } from '../src/cycle/orchestrator.js';
import { ScriptedJobRunner, createGate } from '../src/testing/scripted-runner.js';
import type { Gate } from '../src/testing/scripted-runner.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';

function table(name: string, layer: Layer = 'bronze', dependsOn: string[] = []): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer, timestampColumn: 'ts', sequenceColumn: 'seq', dependsOn });
  return { ...parsed, name, partitionBy: [] };
}

const retry: RetryPolicy = { retries: 0, minDelaySeconds: 0.001, maxDelaySeconds: 0.001, factor: 2, jitter: false };

function record(events: OffloadEvents): OffloadEvent[] {
  const seen: OffloadEvent[] = [];
  events.subscribe((e) => seen.push(e));
  return seen;
}

/** `type:table` for each table event, in emission order. */
const trace = (events: readonly OffloadEvent[]) => events.flatMap((e) => ('table' in e ? [`${e.type}:${e.table}`] : []));

/** Most tables between their `table_started` and their end event at any moment. */
function maxRunning(events: readonly OffloadEvent[]): number {
  let running = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'table_started') max = Math.max(max, ++running);
    if (e.type === 'table_succeeded' || e.type === 'table_failed') running--;
  }
  return max;
}

function gatedRunner(names: string[]): { runner: ScriptedJobRunner; gates: Record<string, Gate> } {
  const gates = Object.fromEntries(names.map((n) => [n, createGate()]));
  const scripts = Object.fromEntries(names.map((n) => [n, [{ kind: 'wait' as const, until: gates[n]!.opened }, { kind: 'succeed' as const }]]));
  return { runner: new ScriptedJobRunner({ scripts }), gates };
}

const common = { retry, lateDataBufferMinutes: 5, leaseOwner: 'scheduler-a' };

describe('cycle concurrency', () => {
  it('runs at most `concurrency` tables at once, starting queued tables as slots free', async () => {
    const names = ['t1', 't2', 't3', 't4'];
    const { runner, gates } = gatedRunner(names);
    const events = new OffloadEvents();
    const seen = record(events);
    const started = () => runner.jobs.map((j) => j.table);
    const cycle = runCycle({ ...common, tables: names.map((n) => table(n)), store: new InMemoryWatermarkStore(), runner, events, concurrency: 2 });

    await vi.waitFor(() => expect(started()).toEqual(['t1', 't2']));
    gates.t1!.open();
    await vi.waitFor(() => expect(started()).toEqual(['t1', 't2', 't3']));
    gates.t2!.open();
    await vi.waitFor(() => expect(started()).toEqual(['t1', 't2', 't3', 't4']));
    gates.t3!.open();
    gates.t4!.open();
    const report = await cycle;

    expect(report.status).toBe('success');
    expect(maxRunning(seen)).toBe(2);
    const order = trace(seen);
    // Two waves: t1 and t2 run together; t3 and t4 each take a slot a finished table freed.
    expect(order.indexOf('table_started:t2')).toBeLessThan(order.indexOf('table_succeeded:t1'));
    expect(order.indexOf('table_started:t3')).toBeGreaterThan(order.indexOf('table_succeeded:t1'));
    expect(order.indexOf('table_started:t4')).toBeGreaterThan(order.indexOf('table_succeeded:t2'));
    expect(seen[0]?.type).toBe('cycle_started');
    expect(seen.at(-1)?.type).toBe('cycle_finished');
  });

  it('orders layers bronze → silver → gold by default', async () => {
    const tables = [table('g1', 'gold'), table('s', 'silver'), table('b1'), table('g2', 'gold'), table('b2')];
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'succeed' }] });
    const events = new OffloadEvents();
    const seen = record(events);
    const report = await runCycle({ ...common, tables, store: new InMemoryWatermarkStore(), runner, events, concurrency: 4 });

    expect(report.status).toBe('success');
    expect(report.tables.map((t) => t.table)).toEqual(['g1', 's', 'b1', 'g2', 'b2']);
    const order = trace(seen);
    const at = (entry: string) => order.indexOf(entry);
    expect(at('table_started:s')).toBeGreaterThan(Math.max(at('table_succeeded:b1'), at('table_succeeded:b2')));
    expect(at('table_started:g1')).toBeGreaterThan(at('table_succeeded:s'));
    expect(at('table_started:g2')).toBeGreaterThan(at('table_succeeded:s'));
    // Independent bronze tables overlap rather than run one after another.
    expect(at('table_started:b2')).toBeLessThan(at('table_succeeded:b1'));
  });

  it('starts a table as soon as its explicit dependencies succeed, not at a layer barrier', async () => {
    const tables = [table('b1'), table('b2'), table('s', 'silver', ['b2'])];
    const { runner, gates } = gatedRunner(['b1', 'b2', 's']);
    const cycle = runCycle({ ...common, tables, store: new InMemoryWatermarkStore(), runner, concurrency: 3 });

    gates.b2!.open();
    gates.s!.open();
    await vi.waitFor(() => expect(runner.jobsFor('s')).toEqual([expect.objectContaining({ outcome: 'succeeded' })]));
    expect(runner.jobsFor('b1')).toEqual([expect.objectContaining({ outcome: 'running' })]);
    gates.b1!.open();
    expect((await cycle).status).toBe('success');
  });
});
