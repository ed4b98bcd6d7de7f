import { backfill } from '../commands/backfill.js';
import { cleanOrphans } from '../commands/clean-orphans.js';
import { diagnose } from '../commands/diagnose.js';
import { migrate } from '../commands/migrate.js';
import { reconcile } from '../commands/reconcile.js';
import { maintain } from '../commands/maintain.js';
import { dashboard, rules } from '../commands/rules.js';
import { run } from '../commands/run.js';
import { start } from '../commands/start.js';
import { status } from '../commands/status.js';
import { view } from '../commands/view.js';
import { appVersion } from '../runtime/version.js';
import { forwardIfDaemon } from './beside-daemon.js';
import { EXIT, type CliIo, type Command } from './io.js';
import { reportError } from './report.js';

const COMMANDS: Readonly<Record<string, Command>> = { start, run, backfill, status, diagnose, reconcile, maintain, rules, dashboard, migrate, 'clean-orphans': cleanOrphans, view };

const HELP = `Usage: coldtier <command> [options]

Offloads ClickHouse tables to Apache Iceberg every 15 minutes.

Commands:
  start       run the scheduler (metrics, health and status on --port, default 8000)
  run --once  run one offload cycle and exit
  backfill    offload a historical range of one table in chunks (resumable)
  status      watermark, lag and last outcome of every table
  diagnose    the performance runbook's diagnosis (--json for the full report)
  reconcile   compare a table with its Iceberg copy and repair its watermark
  maintain    compact small files, rewrite manifests, expire snapshots, remove orphans
  rules       print the Prometheus alerting and recording rules (YAML)
  dashboard   print the Grafana dashboard (JSON)
  view        print or create the ClickHouse view over both tiers (<table>_all)
  migrate     create or upgrade the watermark store's schema
  clean-orphans  delete data files of runs that never committed

Without --config every command uses the embedded single-machine setup under
--state-dir (default ./.coldtier); status, diagnose and reconcile also work
while \`coldtier start\` runs on it. \`coldtier help <command>\` for a command's
options; \`coldtier --version\` prints the version.

Exit codes: 0 success, 1 failure, 2 bad arguments or configuration,
3 (run --once) some tables failed, (maintain) a table was busy.`;

/** Runs `coldtier ARGV` and returns the exit code; errors become one line on `err` (a stack trace with --verbose). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest.length > 0) return runCli([rest[0]!, '--help'], io);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${HELP}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${appVersion()}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`coldtier: unknown command ${JSON.stringify(name)}; try coldtier --help\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    try {
      const forwarded = await forwardIfDaemon(name, rest, error, io);
      if (forwarded !== undefined) return forwarded;
    } catch (forwardError) {
      return reportError(name, rest, forwardError, io);
    }
    return reportError(name, rest, error, io);
  }
}
