import { systemClock, type Clock, type CycleReport, type Logger, silentLogger } from '@coldtier/offload-core';
import { formatScheduleTime, nextAlignedTick } from './aligned.js';

/** setTimeout/clearTimeout, injectable so tests drive time. */
export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: Timer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs one cycle; must start no new table once `drain` aborts, stop promptly
 * when `signal` aborts and finish by `deadline`.
 */
export type CycleFn = (signal: AbortSignal, deadline: Date, drain: AbortSignal) => Promise<CycleReport>;

export interface SchedulerOptions {
  readonly intervalMs: number;
  readonly runCycle: CycleFn;
  readonly clock?: Clock;
  readonly timer?: Timer;
  readonly logger?: Logger;
  /** Called when a tick finds the previous cycle still running (the tick is skipped). */
  readonly onSkippedTick?: (at: Date) => void;
  /** Called with every finished cycle's report (or the error that escaped it). */
  readonly onCycle?: (outcome: { report?: CycleReport; error?: unknown }) => void;
}

export interface SchedulerState {
  readonly running: boolean;
  readonly lastTickAt: Date | null;
  readonly nextTickAt: Date | null;
  readonly skippedTicks: number;
  readonly cycles: number;
}

/**
 * The 15-minute loop: a first cycle at start, then cycles at wall-clock
 * multiples of the interval. Never two cycles at once: a tick that finds a
 * cycle still running is skipped. Each cycle gets a deadline of 2/3 of the
 * interval, so it ends well before the next tick would have to skip.
 */
export class CycleScheduler {
  readonly #options: SchedulerOptions;
  readonly #clock: Clock;
  readonly #timer: Timer;
  readonly #logger: Logger;
  #handle: unknown = null;
  #current: Promise<void> | null = null;
  #abort: AbortController | null = null;
  #drain: AbortController | null = null;
  #stopped = false;
  #lastTickAt: Date | null = null;
  #nextTickAt: Date | null = null;
  #skipped = 0;
  #cycles = 0;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? realTimer;
    this.#logger = options.logger ?? silentLogger;
  }

  get state(): SchedulerState {
    return {
      running: this.#current !== null,
      lastTickAt: this.#lastTickAt,
      nextTickAt: this.#nextTickAt,
      skippedTicks: this.#skipped,
      cycles: this.#cycles,
    };
  }

  /** Runs the first cycle now and schedules the rest. */
  start(): void {
    this.#tick();
  }

  #scheduleNext(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    const next = nextAlignedTick(now, this.#options.intervalMs);
    this.#nextTickAt = next;
    this.#logger.info(`Next run scheduled at: ${formatScheduleTime(next)}`);
    this.#handle = this.#timer.set(() => this.#tick(), next.getTime() - now.getTime());
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    this.#lastTickAt = now;
    if (this.#current) {
      this.#skipped += 1;
      this.#logger.warn('Previous offload cycle still running; skipping this tick', { at: now.toISOString() });
      this.#options.onSkippedTick?.(now);
    } else {
      this.#current = this.#run(now).finally(() => {
        this.#current = null;
      });
    }
    this.#scheduleNext();
  }

  async #run(now: Date): Promise<void> {
    const abort = new AbortController();
    const drain = new AbortController();
    this.#abort = abort;
    this.#drain = drain;
    const deadline = new Date(now.getTime() + (this.#options.intervalMs * 2) / 3);
    try {
      const report = await this.#options.runCycle(abort.signal, deadline, drain.signal);
      this.#cycles += 1;
      this.#options.onCycle?.({ report });
    } catch (error) {
      this.#cycles += 1;
      this.#logger.error(`Offload cycle crashed: ${(error as Error).message ?? String(error)}`);
      this.#options.onCycle?.({ error });
    } finally {
      this.#abort = null;
      this.#drain = null;
    }
  }

  /**
   * Stops scheduling and drains a running cycle (tables already running go
   * on, the rest are skipped) for up to `graceMs`, then aborts it and waits
   * for it to wind down.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    this.#nextTickAt = null;
    if (this.#handle !== null) this.#timer.clear(this.#handle);
    const current = this.#current;
    if (!current) return;
    this.#drain?.abort(new Error('scheduler stopping'));
    let graceTimer: unknown = null;
    const graceOver = new Promise<'grace'>((resolve) => {
      graceTimer = this.#timer.set(() => resolve('grace'), graceMs);
    });
    const outcome = await Promise.race([current.then(() => 'done' as const), graceOver]);
    this.#timer.clear(graceTimer);
    if (outcome === 'grace') {
      this.#logger.warn('Grace period over; aborting the running offload cycle');
      this.#abort?.abort(new Error('scheduler stopping'));
      await current;
    }
  }
}
