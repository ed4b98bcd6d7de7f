import { join } from 'node:path';
import { parseConfig, type OffloadConfig } from '@coldtier/offload-core';

/** The reference's exchanges, each with its own bronze table. */
export const EMBEDDED_EXCHANGES = ['binance', 'kraken'] as const;

/** ClickHouse database of the embedded bronze tables, as in the reference. */
export const EMBEDDED_DATABASE = 'k2';

/** The reference keeps a 5-minute late-data buffer on a 15-minute schedule: a third. */
const BUFFER_SHARE = 5 / 15;

/** Where the embedded setup keeps each part of its state. */
export interface StateLayout {
  readonly root: string;
  readonly clickhouse: string;
  readonly postgres: string;
  readonly warehouse: string;
}

export function stateLayout(root: string): StateLayout {
  return { root, clickhouse: join(root, 'clickhouse'), postgres: join(root, 'postgres'), warehouse: join(root, 'warehouse') };
}

/**
 * The single-machine default: the reference's bronze tables in an embedded
 * ClickHouse, offloaded by the embedded runner into a local warehouse. A
 * shorter interval scales the late-data buffer with it (a third of the
 * interval, as 5 minutes is of 15), so a 30-second interval reads up to 10
 * seconds before now.
 */
export function embeddedConfig(layout: StateLayout, intervalSeconds: number | undefined): OffloadConfig {
  const scheduleMinutes = intervalSeconds === undefined ? 15 : intervalSeconds / 60;
  return parseConfig(
    {
      scheduleMinutes,
      lateDataBufferMinutes: scheduleMinutes * BUFFER_SHARE,
      retry: { retries: 2, minDelaySeconds: Math.min(30, scheduleMinutes * 2), maxDelaySeconds: Math.min(120, scheduleMinutes * 8) },
      clickhouse: { url: 'embedded', path: layout.clickhouse },
      runner: { kind: 'embedded', warehouse: layout.warehouse },
      tables: EMBEDDED_EXCHANGES.map((exchange) => ({
        source: `${EMBEDDED_DATABASE}.bronze_trades_${exchange}`,
        target: `cold.bronze_trades_${exchange}`,
        layer: 'bronze',
        timestampColumn: 'exchange_timestamp',
        sequenceColumn: 'sequence_number',
        final: true,
        timeoutSeconds: Math.max(1, Math.min(600, scheduleMinutes * 40)),
      })),
    },
    {},
    'the embedded default',
  );
}
