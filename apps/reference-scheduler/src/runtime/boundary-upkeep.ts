import { messageOf } from '@coldtier/offload-core';
import type { BoundaryViews, Logger, OffloadEvents, TableConfig, TtlGuard, TtlMonitor } from '@coldtier/offload-core';

/** The TTL guard and where it reads the headroom. */
export interface GuardLoop {
  readonly guard: TtlGuard;
  readonly monitor: TtlMonitor;
  /** How often the guard looks at the headroom between cycles. */
  readonly periodMs: number;
}

export interface BoundaryUpkeepOptions {
  readonly events: OffloadEvents;
  readonly tables: readonly TableConfig[];
  /** `null` when no table has `ttlGuard: stop-merges`. */
  readonly guard: GuardLoop | null;
  /** `null` when the runner has no catalog the views could read. */
  readonly views: BoundaryViews | null;
  readonly logger: Logger;
}

export interface BoundaryUpkeep {
  /** Stops the timer and waits for work in flight. */
  stop(): Promise<void>;
}

/**
 * The daemon's work at the hot/cold boundary, off the cycle's path: after a
 * commit, move the boundary of that table's view (if `coldtier view --apply`
 * created one); after each cycle and on a timer (a stalled offload may finish
 * no cycle), let the TTL guard act on fresh headroom. Work runs one item at a
 * time, in order, so an older boundary never replaces a newer one.
 */
export function startBoundaryUpkeep(options: BoundaryUpkeepOptions): BoundaryUpkeep {
  const { guard, views, logger } = options;
  const byName = new Map(options.tables.map((t) => [t.name, t]));
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (what: string, work: () => Promise<unknown>) => {
    queue = queue.then(work).then(
      () => undefined,
      (error: unknown) => logger.warn(`${what} failed`, { error: messageOf(error) }),
    );
  };
  const checkGuard = () => {
    if (guard) enqueue('TTL guard check', async () => guard.guard.apply(await guard.monitor.probe()));
  };

  const unsubscribe = options.events.subscribe((event) => {
    if (event.type === 'table_succeeded' && event.result.rowsWritten > 0 && views) {
      const table = byName.get(event.table);
      if (table) enqueue(`view of ${table.name}`, () => views.refresh(table));
    } else if (event.type === 'cycle_finished') {
      checkGuard();
    }
  });
  const timer = guard ? setInterval(checkGuard, guard.periodMs) : undefined;
  timer?.unref();
  checkGuard();
  return {
    async stop() {
      unsubscribe();
      if (timer) clearInterval(timer);
      await queue;
    },
  };
}
