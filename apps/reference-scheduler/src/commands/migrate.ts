import { migrate as migrateSchema } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { pendingMigrations } from '@coldtier/offload-core';

const HELP = `Usage: coldtier migrate [options]

Brings the watermark store's PostgreSQL schema up to date (tables
offload_watermarks, offload_runs, offload_leases, offload_cycles, and the
Iceberg SQL catalog's iceberg_tables for runner.catalog sql). Safe to repeat and
to run while a scheduler runs; run it after every upgrade, before restarting.

Options:
      --dry-run              only list the pending migrations
${COMMON_HELP}`;

export const migrate: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, 'dry-run': { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const app = await openApp(values, io, 'migrate');
  try {
    const pool = await app.pool();
    if (values['dry-run']) {
      const pending = await pendingMigrations(pool);
      io.out(pending.length === 0 ? 'Watermark schema is up to date\n' : `Pending migrations: ${pending.join(', ')}\n`);
      return 0;
    }
    const applied = await migrateSchema(pool);
    io.out(applied.length === 0 ? 'Watermark schema is up to date\n' : `Applied migrations: ${applied.join(', ')}\n`);
    return 0;
  } finally {
    await app.close();
  }
};
