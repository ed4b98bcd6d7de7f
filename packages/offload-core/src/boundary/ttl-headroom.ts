import type { TtlDeleteRule } from './ttl-rules.js';

/** What ClickHouse says about one source table's row TTL, read by {@link probeTtl}. Plain data. */
export interface TtlProbe {
  /** Logical table name. */
  readonly table: string;
  /** The table's row-deleting TTL rules; empty when it has none. */
  readonly rules: readonly TtlDeleteRule[];
  /**
   * Unix seconds at which ClickHouse may delete the oldest row not yet in
   * Iceberg (the first row after the committed watermark): the TTL rules
   * evaluated on that row by ClickHouse. `null` when every row is offloaded
   * or no rule applies to that row.
   */
  readonly pendingDeleteAt: number | null;
  /** Earliest `delete_ttl_info_min` of the active parts (unix seconds; unconditional rules only, offloaded rows included), `null` when no part carries TTL info. */
  readonly earliestPartDeleteAt: number | null;
  /** ClickHouse's clock when probed (unix seconds), to spot clock skew against ours. */
  readonly probedAt: number;
}

/**
 * Seconds until ClickHouse may delete a row that is not yet in Iceberg:
 * `null` for a table without row TTL (no such risk, no metric), `Infinity`
 * when no row at risk is waiting, negative once the deadline has passed
 * (TTL merges may already be deleting unoffloaded rows).
 */
export function ttlHeadroomSeconds(probe: Pick<TtlProbe, 'rules' | 'pendingDeleteAt'>, now: Date): number | null {
  if (probe.rules.length === 0) return null;
  if (probe.pendingDeleteAt === null) return Number.POSITIVE_INFINITY;
  return probe.pendingDeleteAt - now.getTime() / 1000;
}
