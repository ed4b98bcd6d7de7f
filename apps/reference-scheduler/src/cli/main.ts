import { ConfigError, messageOf, OffloadError } from '@coldtier/offload-core';
import { backfill } from '../commands/backfill.js';
import { diagnose } from '../commands/diagnose.js';
import { migrate } from '../commands/migrate.js';
import { reconcile } from '../commands/reconcile.js';
import { maintain } from '../commands/maintain.js';
import { dashboard, rules } from '../commands/rules.js';
import { run } from '../commands/run.js';
import { start } from '../commands/start.js';
import { status } from '../commands/status.js';
import { appVersion } from '../runtime/version.js';
import { UsageError } from './args.js';
import { EXIT, type CliIo, type Command } from './io.js';

const COMMANDS: Readonly<Record<string, Command>> = { start, run, backfill, status, diagnose, reconcile, maintain, rules, dashboard, migrate };

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
  migrate     create or upgrade the watermark store's schema

Without --config every command uses the embedded single-machine setup under
--state-dir (default ./.coldtier). \`coldtier <command> --help\` for options.

Exit codes: 0 success, 1 failure, 2 bad arguments or configuration,
3 (run --once) some tables failed, (maintain) a table was busy.`;

/** One line for the terminal; a config error's issues are joined onto it. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) {
    const head = error.message.split('\n')[0]!.replace(/:$/, '');
    return `${head}: ${error.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`;
  }
  return messageOf(error).replace(/\s*\n\s*/g, ' ');
}

function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof ConfigError || (error instanceof OffloadError && error.kind === 'config') ? EXIT.usage : EXIT.failed;
}

/** Runs `coldtier ARGV` and returns the exit code; errors become one line on `err` (a stack trace with --verbose). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${HELP}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.out(`${appVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`coldtier: unknown command ${JSON.stringify(name)}; try coldtier --help\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    io.err(`coldtier ${name}: ${describe(error)}\n`);
    if (rest.includes('--verbose') || rest.includes('-v')) io.err(`${(error as Error).stack ?? String(error)}\n`);
    return exitCodeOf(error);
  }
}
