import { INITIAL_CURSOR, cursorsEqual, formatMicros, offloadLagMinutes } from '@coldtier/offload-core';
import type { CycleReport, TableConfig, TableOutcome, WatermarkState } from '@coldtier/offload-core';
import { formatHeadroom, type TableTtl } from './boundary.js';

/** One table's row in `coldtier status` and `/status`. */
export interface TableStatus {
  readonly table: string;
  readonly layer: string;
  readonly source: string;
  readonly target: string;
  /** The cursor's timestamp (ISO, microseconds), `null` before the first offload. */
  readonly watermark: string | null;
  readonly watermarkSequence: string | null;
  /** Minutes since the last successful offload (or registration): `offload_lag_minutes`. */
  readonly lagMinutes: number | null;
  readonly status: string;
  readonly failureCount: number;
  readonly lastRowCount: number;
  readonly lastSuccessfulRunAt: string | null;
  readonly lastError: string | null;
  /** What this process's last cycle did with the table (only in the daemon's `/status`). */
  readonly lastOutcome?: OutcomeSummary;
  /** TTL headroom of a source with row TTL, when ClickHouse was probed. */
  readonly ttl?: TableTtl;
}

export interface OutcomeSummary {
  readonly status: TableOutcome['status'];
  readonly rows?: number;
  readonly errorType?: string;
  readonly reason?: string;
  readonly detail?: string;
}

export interface CycleSummary {
  readonly cycleId: string;
  readonly status: CycleReport['status'];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly totalRows: number;
  readonly tables: Readonly<Record<string, OutcomeSummary>>;
}

export function summarizeOutcome(outcome: TableOutcome): OutcomeSummary {
  switch (outcome.status) {
    case 'success':
      return { status: 'success', rows: outcome.rows };
    case 'failed':
      return { status: 'failed', errorType: outcome.errorType, detail: outcome.message.slice(0, 300) };
    case 'skipped':
      return { status: 'skipped', reason: outcome.reason, detail: outcome.detail };
  }
}

export function summarizeCycle(report: CycleReport): CycleSummary {
  return {
    cycleId: report.cycleId,
    status: report.status,
    startedAt: report.startedAt.toISOString(),
    finishedAt: report.finishedAt.toISOString(),
    durationSeconds: report.durationSeconds,
    totalRows: report.totalRows,
    tables: Object.fromEntries(report.tables.map((o) => [o.table, summarizeOutcome(o)])),
  };
}

/** The configured tables joined with their watermark rows; lag as `offload_lag_minutes` defines it. */
export function tableStatuses(
  tables: readonly TableConfig[],
  states: readonly WatermarkState[],
  now: Date,
  last?: CycleReport,
  ttls: readonly TableTtl[] = [],
): TableStatus[] {
  const byName = new Map(states.map((s) => [s.table, s]));
  const ttlByName = new Map(ttls.map((t) => [t.table, t]));
  const outcomes = new Map(last?.tables.map((o) => [o.table, summarizeOutcome(o)]) ?? []);
  return tables.map((table) => {
    const state = byName.get(table.name);
    const moved = state !== undefined && !cursorsEqual(state.cursor, INITIAL_CURSOR);
    const outcome = outcomes.get(table.name);
    const ttl = ttlByName.get(table.name);
    return {
      table: table.name,
      layer: table.layer,
      source: table.source,
      target: table.target,
      watermark: moved ? formatMicros(state.cursor.timestampMicros) : null,
      watermarkSequence: moved ? state.cursor.sequence.toString() : null,
      lagMinutes: state ? offloadLagMinutes(state, now) : null,
      status: state?.status ?? 'unregistered',
      failureCount: state?.failureCount ?? 0,
      lastRowCount: state?.lastRowCount ?? 0,
      lastSuccessfulRunAt: state?.lastSuccessfulRunAt?.toISOString() ?? null,
      lastError: state?.lastErrorMessage ?? null,
      ...(outcome ? { lastOutcome: outcome } : {}),
      ...(ttl ? { ttl } : {}),
    };
  });
}

/** A fixed-width text table for terminals. */
export function formatStatusTable(rows: readonly TableStatus[]): string {
  const header = ['TABLE', 'LAYER', 'STATUS', 'WATERMARK', 'LAG (min)', 'TTL HEADROOM', 'FAILURES', 'LAST ROWS', 'LAST ERROR'];
  const body = rows.map((r) => [
    r.table,
    r.layer,
    r.status,
    r.watermark ?? '-',
    r.lagMinutes === null ? '-' : r.lagMinutes.toFixed(1),
    r.ttl ? formatHeadroom(r.ttl.headroomSeconds) : '-',
    String(r.failureCount),
    String(r.lastRowCount),
    r.lastError === null ? '' : r.lastError.replace(/\s+/g, ' ').slice(0, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
