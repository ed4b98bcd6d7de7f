import { migrate as migrateSchema, SqlCatalog } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { pendingMigrations } from '@coldtier/offload-core';
import { createCatalog } from '../runtime/runner.js';

const HELP = `Usage: coldtier migrate [options]

Brings the watermark store's PostgreSQL schema up to date (tables
offload_watermarks, offload_runs, offload_leases) and, with runner.catalog
sql, creates the Iceberg JDBC catalog's tables there. Safe to repeat and to
run while a scheduler runs; run it after every upgrade, before restarting.

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
    const catalog = createCatalog(app.config.runner, pool);
    if (catalog instanceof SqlCatalog) {
      await catalog.initialize();
      io.out('Iceberg SQL catalog tables are ready\n');
    }
    return 0;
  } finally {
    await app.close();
  }
};
