import { formatDiagnosticReport, runDiagnostics } from '@coldtier/offload-diagnostics';
import { COMMON_HELP, COMMON_OPTIONS, parse, parsePositive, UsageError } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { formatTtlSection, openTtlMonitor, tableTtls } from '../runtime/boundary.js';

const HELP = `Usage: coldtier diagnose [options]

Runs the performance runbook's diagnosis against the live systems: cycle and
table durations from the store's history, source volume per hour, host and
ClickHouse resources, network round trips, slow queries, part counts and
watermark ages (the embedded engine has no network or query log to measure);
then names the runbook scenario and its actions, and the TTL headroom of
every source with a row TTL. Exit code 0 whatever the
verdict (read it from --json in scripts).

Options:
      --hours N              hours of history looked at (default 6)
      --json                 the full report as JSON
${COMMON_HELP}`;

export const diagnose: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, hours: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const hours = parsePositive('hours', values.hours, 6, 24 * 90);
  if (!Number.isInteger(hours)) throw new UsageError(`invalid --hours ${JSON.stringify(values.hours)}: expected a whole number of hours`);
  const app = await openApp(values, io, 'diagnose');
  try {
    const store = await app.store();
    const clickhouse = await app.clickhouse();
    const engine = app.config.clickhouse.url === 'embedded' ? 'embedded' : 'server';
    const report = await runDiagnostics({ clickhouse, store, tables: app.config.tables, thresholds: app.thresholds, hours, engine, logger: app.logger });
    const ttl = tableTtls(app.config.tables, await (await openTtlMonitor(app, store)).probe(), new Date());
    io.out(values.json ? `${JSON.stringify({ ...report, ttl }, null, 2)}\n` : `${formatDiagnosticReport(report)}\n\n${formatTtlSection(ttl)}\n`);
    return 0;
  } finally {
    await app.close();
  }
};
