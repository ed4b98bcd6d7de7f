import { BoundaryViews, INLINE_SQL_VALUES, OffloadError, TtlGuard, TtlMonitor, clickHouseIcebergTable, isObjectStoreLocation, ttlHeadroomSeconds } from '@coldtier/offload-core';
import type { TableConfig, TtlGuardEvent, TtlProbe, WatermarkSource } from '@coldtier/offload-core';
import type { App } from './app.js';
import { createCatalog, storageOptions } from './runner.js';

/** Probes every table's TTL against the store's watermarks. */
export async function openTtlMonitor(app: App, watermarks: WatermarkSource): Promise<TtlMonitor> {
  return new TtlMonitor({ client: await app.clickhouse(), tables: app.config.tables, watermarks, logger: app.logger });
}

/** The guard over the tables configured with `ttlGuard: stop-merges`, or `null` when there are none. */
export async function openTtlGuard(app: App, onEvent: (event: TtlGuardEvent) => void): Promise<TtlGuard | null> {
  const guarded = app.config.tables.filter((t) => t.ttlGuard === 'stop-merges');
  if (guarded.length === 0) return null;
  const tables = guarded.map((table) => {
    const threshold = app.thresholds.get('ttlHeadroom', table.name);
    return { table, bounds: { criticalSeconds: threshold.critical ?? 0, resumeSeconds: threshold.acceptable ?? threshold.critical ?? 0 } };
  });
  return new TtlGuard({ client: await app.clickhouse(), tables, username: app.config.clickhouse.username, logger: app.logger, onEvent });
}

/**
 * The views over both tiers; they read the embedded runner's catalog. An
 * in-process ClickHouse reads local files relative to its working directory,
 * a server from its `user_files_path` (absolute paths); object storage through
 * `storage.s3.clickhouse.namedCollection`.
 */
export async function openBoundaryViews(app: App): Promise<BoundaryViews> {
  const runner = app.config.runner;
  if (runner.kind !== 'embedded') {
    throw new OffloadError('config', 'the view over both tiers reads the Iceberg catalog of the embedded runner; runner.kind is "spark"');
  }
  const pool = runner.catalog === 'sql' ? await app.pool() : undefined;
  return new BoundaryViews({
    client: await app.clickhouse(),
    catalog: createCatalog(runner, pool, app.config),
    pathBase: app.config.clickhouse.url === 'embedded' ? process.cwd() : undefined,
    storage: storageOptions(app.config),
    logger: app.logger,
  });
}

/**
 * Refuses, before the first commit too, a view ClickHouse could not read once
 * the table has one: on object storage that takes `storage.s3.clickhouse`,
 * and the module that writes ClickHouse's table functions says so in its error.
 */
export function assertViewReadable(app: App): void {
  const runner = app.config.runner;
  if (runner.kind === 'embedded' && isObjectStoreLocation(runner.warehouse)) clickHouseIcebergTable(runner.warehouse, storageOptions(app.config), INLINE_SQL_VALUES);
}

/** One table's TTL headroom as `status` and `diagnose` show it. */
export interface TableTtl {
  readonly table: string;
  /** Seconds left; `null` when no row waits (the metric's +Inf). */
  readonly headroomSeconds: number | null;
  /** When ClickHouse may delete the oldest row not yet in Iceberg (ISO), `null` when none waits. */
  readonly pendingDeleteAt: string | null;
  readonly rules: readonly string[];
  readonly guard: TableConfig['ttlGuard'];
}

/** Tables with row TTL, from fresh probes; tables without TTL are left out. */
export function tableTtls(tables: readonly TableConfig[], probes: readonly TtlProbe[], now: Date): TableTtl[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  return probes.flatMap((probe) => {
    const headroom = ttlHeadroomSeconds(probe, now);
    if (headroom === null) return [];
    return [
      {
        table: probe.table,
        headroomSeconds: Number.isFinite(headroom) ? Math.round(headroom) : null,
        pendingDeleteAt: probe.pendingDeleteAt === null ? null : new Date(probe.pendingDeleteAt * 1000).toISOString(),
        rules: probe.rules.map((r) => (r.where === undefined ? r.expression : `${r.expression} WHERE ${r.where}`)),
        guard: byName.get(probe.table)?.ttlGuard ?? 'off',
      },
    ];
  });
}

/** `6d 23h`, `1h 40m`, `45s`, `-2m` (expired), `none waiting`. */
export function formatHeadroom(seconds: number | null): string {
  if (seconds === null) return 'none waiting';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  const parts: string[] = [];
  for (const [size, unit] of [[86_400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']] as const) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return `${sign}${parts.join(' ') || '0s'}`;
}

/** The TTL lines `diagnose` prints after the runbook's report. */
export function formatTtlSection(ttls: readonly TableTtl[]): string {
  if (ttls.length === 0) return 'TTL headroom: no source table has a row TTL.';
  const lines = ttls.map((t) => {
    const until = t.pendingDeleteAt === null ? '' : ` (ClickHouse may delete it from ${t.pendingDeleteAt})`;
    return `  ${t.table}: oldest row not yet in Iceberg expires in ${formatHeadroom(t.headroomSeconds)}${until}; TTL ${t.rules.join(', ')}; guard ${t.guard}`;
  });
  return ['TTL headroom:', ...lines].join('\n');
}
