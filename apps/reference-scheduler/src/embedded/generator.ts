import type { ClickHouseClient } from '@clickhouse/client';
import { insertTrades, messageOf, parseQualifiedName, quoteClickHouseQualified, systemClock } from '@coldtier/offload-core';
import type { Clock, Logger, TableConfig } from '@coldtier/offload-core';
import type { Timer } from '../scheduler/index.js';
import { realTimer } from '../scheduler/index.js';

export interface TradeGeneratorOptions {
  readonly client: ClickHouseClient;
  /** Bronze tables to feed; the exchange is the part after `bronze_trades_`. */
  readonly tables: readonly TableConfig[];
  readonly periodMs: number;
  readonly tradesPerBatch: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly timer?: Timer;
}

/** The exchange a bronze table holds: the part of its name after `bronze_trades_`. */
export function exchangeOf(table: TableConfig): string {
  return parseQualifiedName(table.source).name.replace(/^bronze_trades_/, '');
}

interface Feed {
  readonly table: TableConfig;
  readonly exchange: string;
  nextSequence: bigint;
}

/**
 * A small live source for the embedded default: every period, one batch of
 * trades per exchange, stamped over the period that just ended, so the
 * scheduler always has fresh rows. Sequence numbers continue from the
 * table's highest after a restart, keeping (timestamp, sequence) unique.
 */
export class TradeGenerator {
  readonly #o: TradeGeneratorOptions;
  readonly #clock: Clock;
  readonly #timer: Timer;
  #feeds: Feed[] = [];
  #handle: unknown = null;
  #batch: Promise<void> = Promise.resolve();
  #from: Date | null = null;
  #stopped = false;

  constructor(options: TradeGeneratorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? realTimer;
  }

  async start(): Promise<void> {
    this.#feeds = await Promise.all(this.#o.tables.map((table) => this.#resume(table)));
    this.#from = this.#clock.now();
    this.#schedule();
  }

  /** Stops the timer and waits for a batch being inserted. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#handle !== null) this.#timer.clear(this.#handle);
    await this.#batch;
  }

  async #resume(table: TableConfig): Promise<Feed> {
    const result = await this.#o.client.query({
      query: `SELECT toString(max(sequence_number)) AS max FROM ${quoteClickHouseQualified(parseQualifiedName(table.source))}`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ max: string }>();
    return { table, exchange: exchangeOf(table), nextSequence: BigInt(row?.max ?? '0') + 1n };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#handle = this.#timer.set(() => {
      this.#batch = this.#insertBatch().finally(() => this.#schedule());
    }, this.#o.periodMs);
  }

  async #insertBatch(): Promise<void> {
    const from = this.#from!;
    const to = this.#clock.now();
    this.#from = to;
    const count = this.#o.tradesPerBatch;
    for (const feed of this.#feeds) {
      const [database, table] = feed.table.source.split('.') as [string, string];
      try {
        await insertTrades(this.#o.client, database, table, { exchange: feed.exchange, firstSequence: feed.nextSequence, count, from, to });
        feed.nextSequence += BigInt(count);
      } catch (error) {
        this.#o.logger.warn('trade generator: insert failed', { table: feed.table.name, error: messageOf(error) });
      }
    }
  }
}
