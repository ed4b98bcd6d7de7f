import { OffloadError } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse, parseInstant } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';

const HELP = `Usage: coldtier reconcile --table T --since DATE [options]

Compares the source rows of one table since DATE with what its Iceberg table
holds, and moves a watermark left behind by a crash after a commit forward to
what Iceberg proves was committed (never back).

Options:
      --table T              configured table name
      --since DATE           ISO-8601 date or instant to compare from
${COMMON_HELP}`;

export const reconcile: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, table: { type: 'string' }, since: { type: 'string' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  parseInstant('since', values.since);
  const app = await openApp(values, io, 'reconcile');
  findTable(app.config, values.table);
  throw new OffloadError('internal', 'reconcile is not available: this build of @coldtier/offload-core has no reconciliation API');
};
