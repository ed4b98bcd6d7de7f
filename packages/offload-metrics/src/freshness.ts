import { messageOf } from '@coldtier/offload-core';
import type { Logger, WatermarkState } from '@coldtier/offload-core';

/**
 * Where lag is recomputed from at every scrape; a `WatermarkStore` is one.
 * The store is the truth across restarts and across scheduler instances.
 */
export interface LagSource {
  list(): Promise<readonly WatermarkState[]>;
}

interface TableFreshness {
  lastSuccessAt: Date | null;
  advancedAt: Date | null;
  /** What lag and watermark age count from before the first success: registration or process start. */
  since: Date;
}

const later = (a: Date | null, b: Date | null): Date | null => (a === null ? b : b === null || a >= b ? a : b);

/**
 * Per-table freshness of the configured tables, fed by events and refreshed
 * from the lag source. Values only move forward, so an event newer than the
 * last store read is never undone by it.
 */
export class FreshnessTracker {
  readonly #tables = new Map<string, TableFreshness>();
  readonly #source: LagSource | undefined;
  readonly #logger: Logger;
  #refreshing: Promise<void> | undefined;

  constructor(tables: readonly string[], startTime: Date, source: LagSource | undefined, logger: Logger) {
    for (const table of tables) this.#tables.set(table, { lastSuccessAt: null, advancedAt: null, since: startTime });
    this.#source = source;
    this.#logger = logger;
  }

  get tables(): Iterable<string> {
    return this.#tables.keys();
  }

  /** A run of `table` succeeded at `at`; `advanced` when it moved the watermark. */
  recordSuccess(table: string, at: Date, advanced: boolean): void {
    const entry = this.#tables.get(table);
    if (!entry) return;
    entry.lastSuccessAt = later(entry.lastSuccessAt, at);
    if (advanced) entry.advancedAt = later(entry.advancedAt, at);
  }

  /**
   * Reads the lag source once for however many gauges ask during one scrape
   * (the registry collects them concurrently). A failing source keeps the
   * last known state: lag keeps rising from it, and the scrape still succeeds.
   */
  refresh(): Promise<void> {
    if (!this.#source) return Promise.resolve();
    this.#refreshing ??= this.#read(this.#source).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(source: LagSource): Promise<void> {
    let states: readonly WatermarkState[];
    try {
      states = await source.list();
    } catch (error) {
      this.#logger.warn('offload metrics: watermark store unreadable, lag computed from last known state', {
        error: messageOf(error),
      });
      return;
    }
    for (const state of states) {
      const entry = this.#tables.get(state.table);
      if (!entry) continue;
      entry.since = state.createdAt;
      entry.lastSuccessAt = later(entry.lastSuccessAt, state.lastSuccessfulRunAt);
      entry.advancedAt = later(entry.advancedAt, state.advancedAt);
    }
  }

  /** Minutes since the last success (or since `since` if none), never negative. */
  lagMinutes(table: string, now: Date): number {
    const entry = this.#tables.get(table);
    if (!entry) return 0;
    const from = entry.lastSuccessAt ?? entry.since;
    return Math.max(0, now.getTime() - from.getTime()) / 60_000;
  }

  /** Unix seconds of the last watermark advance (or of `since` if it never advanced). */
  watermarkSeconds(table: string): number {
    const entry = this.#tables.get(table);
    if (!entry) return 0;
    return (entry.advancedAt ?? entry.since).getTime() / 1000;
  }
}
