import { describe, expect, it } from 'vitest';
import { ManualClock, type CycleReport } from '@coldtier/offload-core';
import { CycleScheduler, nextAlignedTick, type Timer } from '../src/scheduler/index.js';

const MIN = 60_000;
const at = (hhmm: string) => new Date(`2026-11-21T${hhmm}:00Z`);

/** Timers on a manual clock: `advance` fires due callbacks in time order. */
class ManualTimer implements Timer {
  #next = 0;
  readonly pending = new Map<number, { due: number; fn: () => void }>();
  constructor(readonly clock: ManualClock) {}
  set(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { due: this.clock.now().getTime() + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  async advanceTo(date: Date): Promise<void> {
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.due <= date.getTime()).sort((a, b) => a[1].due - b[1].due)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.clock.set(due[1].due);
      due[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.clock.set(date);
    await new Promise((r) => setImmediate(r));
  }
}

const report = (cycleId: string): CycleReport => ({
  cycleId,
  status: 'success',
  startedAt: new Date(0),
  finishedAt: new Date(0),
  durationSeconds: 0,
  tables: [],
  totalRows: 0,
});

describe('aligned ticks', () => {
  it('aligns to wall-clock multiples of the interval', () => {
    expect(nextAlignedTick(at('14:07'), 15 * MIN)).toEqual(at('14:15'));
    expect(nextAlignedTick(at('14:15'), 15 * MIN)).toEqual(at('14:30'));
    expect(nextAlignedTick(new Date('2026-11-21T23:59:59Z'), 15 * MIN)).toEqual(new Date('2026-11-22T00:00:00Z'));
  });
});

describe('CycleScheduler', () => {
  function setup(cycleMs: (n: number) => number | 'hang') {
    const clock = new ManualClock(at('14:07'));
    const timer = new ManualTimer(clock);
    const starts: { at: string; deadline: string }[] = [];
    const skipped: string[] = [];
    const aborted: number[] = [];
    const drained: number[] = [];
    let n = 0;
    const scheduler = new CycleScheduler({
      intervalMs: 15 * MIN,
      clock,
      timer,
      onSkippedTick: (d) => skipped.push(d.toISOString().slice(11, 16)),
      runCycle: (signal, deadline, drain) => {
        const index = n++;
        drain.addEventListener('abort', () => drained.push(index));
        starts.push({ at: clock.now().toISOString().slice(11, 16), deadline: deadline.toISOString().slice(11, 16) });
        const ms = cycleMs(index);
        return new Promise<CycleReport>((resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.push(index);
            reject(new Error('aborted'));
          });
          if (ms !== 'hang') timer.set(() => resolve(report(String(index))), ms);
        });
      },
    });
    return { clock, timer, scheduler, starts, skipped, aborted, drained };
  }

  it('runs a first cycle at start, then on aligned ticks, with a 2/3-interval deadline', async () => {
    const { timer, scheduler, starts, skipped } = setup(() => 2 * MIN);
    scheduler.start();
    await timer.advanceTo(at('14:46'));
    expect(starts).toEqual([
      { at: '14:07', deadline: '14:17' },
      { at: '14:15', deadline: '14:25' },
      { at: '14:30', deadline: '14:40' },
      { at: '14:45', deadline: '14:55' },
    ]);
    expect(skipped).toEqual([]);
    expect(scheduler.state).toMatchObject({ cycles: 3, running: true, nextTickAt: at('15:00') });
  });

  it('skips a tick that finds the previous cycle still running', async () => {
    const { timer, scheduler, starts, skipped } = setup((i) => (i === 0 ? 20 * MIN : MIN));
    scheduler.start();
    await timer.advanceTo(at('14:31'));
    expect(starts.map((s) => s.at)).toEqual(['14:07', '14:30']);
    expect(skipped).toEqual(['14:15']);
    expect(scheduler.state.skippedTicks).toBe(1);
  });

  it('on stop drains the running cycle, lets it finish within the grace period and schedules nothing more', async () => {
    const { timer, scheduler, starts, aborted, drained } = setup(() => MIN);
    scheduler.start();
    const stopped = scheduler.stop(5 * MIN);
    expect(drained).toEqual([0]);
    await timer.advanceTo(at('14:09'));
    await stopped;
    await timer.advanceTo(at('15:00'));
    expect(starts).toHaveLength(1);
    expect(aborted).toEqual([]);
    expect(timer.pending.size).toBe(0);
  });

  it('aborts a cycle that outlives the grace period', async () => {
    const { timer, scheduler, aborted } = setup(() => 'hang');
    scheduler.start();
    const stopped = scheduler.stop(30_000);
    await timer.advanceTo(at('14:08'));
    await stopped;
    expect(aborted).toEqual([0]);
    expect(scheduler.state.running).toBe(false);
  });
});
