import type { ClickHouseClient } from '@clickhouse/client';
import { messageOf, parseQualifiedName } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';

/**
 * Tagged on every diagnostic query, so the slow-query step can leave the
 * diagnostics' own queries out of `system.query_log`.
 */
export const DIAGNOSTICS_LOG_COMMENT = 'coldtier-diagnostics';

const MAX_REASON_LENGTH = 300;

/** What a probe returned, or why it could not. */
export type Probed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * Runs one probe; a failure of any kind (permission denied, missing system
 * table, network error) becomes a reason instead of a throw, so one probe
 * cannot take the whole report down.
 */
export async function attempt<T>(what: string, probe: () => Promise<T>): Promise<Probed<T>> {
  try {
    return { ok: true, value: await probe() };
  } catch (error) {
    const message = withoutStatement(messageOf(error).replace(/\s+/g, ' ').trim());
    const short = message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}…` : message;
    return { ok: false, reason: `${what}: ${short}` };
  }
}

/**
 * ClickHouse quotes the failing statement in its messages ("... in scope
 * SELECT ..."); an operator needs what went wrong, not our SQL.
 */
export function withoutStatement(message: string): string {
  const cut = message.search(/\s(?:in scope|[Ww]hile processing|[Ww]hile executing)\s|\s(?:SELECT|WITH|INSERT)\s/);
  return cut < 0 ? message : `${message.slice(0, cut).replace(/[\s.:]+$/, '')}.`;
}

/** The reason a probe gives on an engine that cannot answer it. */
export function notOnEmbedded(what: string, why: string): string {
  return `${what}: not available on the embedded engine (${why})`;
}

/** Runs a query with parameters bound server-side (never spliced into the SQL) and returns its rows. */
export async function selectRows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: DIAGNOSTICS_LOG_COMMENT },
  });
  return result.json<T>();
}

/** ClickHouse returns 64-bit integers as strings; every count goes through here. */
export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

export function average(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * `database.table` of a source as ClickHouse's system tables spell it;
 * parsed again (the config schema validated it) so a step is safe on its own.
 */
export function qualifiedSource(table: TableConfig): string {
  const q = parseQualifiedName(table.source);
  return `${q.namespace}.${q.name}`;
}
