import {
  ClickHouseDataReader,
  OffloadError,
  cursorFromJson,
  formatCursor,
  reconcile as reconcileTable,
} from '@coldtier/offload-core';
import type { ReconcileResult } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse, parseInstant, UsageError } from '../cli/args.js';
import { EXIT, openApp, type Command } from '../cli/io.js';
import { createCatalog, storageOptions } from '../runtime/runner.js';

const HELP = `Usage: coldtier reconcile --table T --since DATE [options]

Compares the source rows of one table since DATE with what its Iceberg table
holds, per day (or hour): missing rows (e.g. rows that arrived after the
watermark had passed them), duplicates, and rows not offloaded yet (pending).
Also moves a watermark left behind by a crash after a commit forward to what
Iceberg proves was committed (never back).
Exit code: 0 when every range matches, 1 when any range does not.

Options:
      --table T              configured table name
      --since DATE           ISO-8601 date or instant to compare from
      --until DATE           end of the comparison (default: now)
      --hourly               compare per hour instead of per day
      --exact                read the data files (exact duplicates) instead of
                             counting from Iceberg metadata; needs a ClickHouse
                             that can read the warehouse's files (the embedded
                             one locally; on S3, storage.s3.clickhouse)
      --json                 the result as JSON
${COMMON_HELP}`;

export const reconcile: Command = async (argv, io) => {
  const options = { table: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, hourly: { type: 'boolean' }, exact: { type: 'boolean' }, json: { type: 'boolean' } } as const;
  const { values } = parse(argv, { ...COMMON_OPTIONS, ...options });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const from = parseInstant('since', values.since);
  const to = values.until === undefined ? new Date() : parseInstant('until', values.until);
  if (to <= from) throw new UsageError(`--until ${to.toISOString()} is not after --since ${from.toISOString()}`);
  const app = await openApp(values, io, 'reconcile');
  try {
    const table = findTable(app.config, values.table);
    const runner = app.config.runner;
    if (runner.kind !== 'embedded') {
      throw new OffloadError('config', 'reconcile reads the Iceberg catalog of the embedded runner; with runner.kind "spark" the catalog is the Spark job\'s');
    }
    const store = await app.store();
    const catalog = createCatalog(runner, await app.pool(), app.config);
    const clickhouse = await app.clickhouse();
    const result = await reconcileTable({
      clickhouse,
      catalog,
      table,
      from,
      to,
      granularity: values.hourly ? 'hour' : 'day',
      ...(values.exact ? { method: 'data' as const, dataReader: new ClickHouseDataReader(clickhouse, storageOptions(app.config)) } : {}),
    });

    // The recovery the scheduler does before its next cycle, done now so `status` is right at once.
    const committed = result.watermark === null ? null : cursorFromJson(result.watermark);
    if (committed && (await store.fastForward(table.name, committed))) {
      app.logger.warn(`watermark of ${table.name} fast-forwarded to ${formatCursor(committed)}, committed in Iceberg`);
    }
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatReconcile(result)}\n`);
    return result.ranges.every((r) => r.status === 'ok') ? EXIT.ok : EXIT.failed;
  } finally {
    await app.close();
  }
};

function formatReconcile(result: ReconcileResult): string {
  const header = ['range start', 'clickhouse', 'iceberg', 'pending', 'missing', 'duplicates', 'status'];
  const rows = result.ranges.map((r) => [r.start.toISOString(), r.clickhouseRows, r.icebergRows, r.pendingRows, r.missing, r.duplicates, r.status].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const counted = result.source === 'metadata' ? 'Iceberg counts from metadata (duplicates inferred)' : 'Iceberg counts from the data files';
  return [
    `${result.table}: ${result.from.toISOString()} .. ${result.to.toISOString()}; ${counted}`,
    line(header),
    ...rows.map(line),
    `totals: clickhouse ${result.totals.clickhouseRows}, iceberg ${result.totals.icebergRows}, pending ${result.totals.pendingRows}, missing ${result.totals.missing}, duplicates ${result.totals.duplicates}`,
  ].join('\n');
}
