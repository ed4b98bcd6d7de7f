import type { TableConfig } from '../config/index.js';
import { messageOf } from '../errors.js';
import type { ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import type { CursorColumns } from '../iceberg/writer/window-sql.js';
import { silentLogger, type Logger } from '../logger.js';
import { describeCursorColumns } from '../source/cursor-columns.js';
import { INITIAL_CURSOR } from '../watermark/cursor.js';
import type { WatermarkState } from '../watermark/store.js';
import type { TtlProbe } from './ttl-headroom.js';
import { probeTtl } from './ttl-probe.js';

/** Where the committed watermarks come from; a `WatermarkStore` is one. */
export interface WatermarkSource {
  list(): Promise<readonly WatermarkState[]>;
}

export interface TtlMonitorOptions {
  readonly client: ParquetQueryClient;
  readonly tables: readonly TableConfig[];
  readonly watermarks: WatermarkSource;
  readonly logger?: Logger;
  /** Budget of one table's probe; default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Probes every configured table's TTL against its committed watermark. A
 * table whose probe fails keeps its last known probe (its deadline is an
 * instant, so the headroom computed from it keeps falling); the failure is
 * logged once, and the recovery; concurrent callers share one round of probes.
 */
export class TtlMonitor {
  readonly #options: TtlMonitorOptions;
  readonly #logger: Logger;
  readonly #columns = new Map<string, CursorColumns>();
  readonly #last = new Map<string, TtlProbe>();
  /** Tables whose last probe failed: a failure is logged when it starts, not at every scrape. */
  readonly #failing = new Set<string>();
  #running: Promise<readonly TtlProbe[]> | undefined;

  constructor(options: TtlMonitorOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** One probe per table that could be probed now or before, in configuration order. */
  probe(): Promise<readonly TtlProbe[]> {
    this.#running ??= this.#probeAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #probeAll(): Promise<readonly TtlProbe[]> {
    let states: readonly WatermarkState[] | undefined;
    try {
      states = await this.#options.watermarks.list();
    } catch (error) {
      this.#logger.warn('TTL headroom: watermark store unreadable, using the last probes', { error: messageOf(error) });
      return [...this.#last.values()];
    }
    const cursors = new Map(states.map((s) => [s.table, s.cursor]));
    for (const table of this.#options.tables) {
      try {
        const signal = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
        const columns = this.#columns.get(table.name) ?? (await describeCursorColumns(this.#options.client, table, signal));
        this.#columns.set(table.name, columns);
        const watermark = cursors.get(table.name) ?? INITIAL_CURSOR;
        this.#last.set(table.name, await probeTtl({ client: this.#options.client, table, columns, watermark, signal }));
        if (this.#failing.delete(table.name)) this.#logger.info(`TTL headroom of ${table.name} probed again`, { table: table.name });
      } catch (error) {
        if (!this.#failing.has(table.name)) {
          this.#logger.warn(`TTL headroom of ${table.name} not probed, using the last probe`, { table: table.name, error: messageOf(error) });
        }
        this.#failing.add(table.name);
      }
    }
    return this.#options.tables.flatMap((t) => this.#last.get(t.name) ?? []);
  }
}
