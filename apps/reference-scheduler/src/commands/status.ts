import { COMMON_HELP, COMMON_OPTIONS, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { formatStatusTable, tableStatuses } from '../runtime/table-status.js';

const HELP = `Usage: coldtier status [options]

Prints every configured table's watermark, lag (minutes since its last
successful offload), status and consecutive failures, from the watermark store.
Works while \`coldtier start\` runs on the same state directory (the daemon
answers it). A running scheduler also serves this at http://HOST:PORT/status,
with its last cycles.

Options:
      --json                 JSON instead of a table
${COMMON_HELP}`;

export const status: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, json: { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const app = await openApp(values, io, 'status');
  try {
    const store = await app.store();
    const rows = tableStatuses(app.config.tables, await store.list(), new Date());
    io.out(values.json ? `${JSON.stringify({ tables: rows }, null, 2)}\n` : `${formatStatusTable(rows)}\n`);
    return 0;
  } finally {
    await app.close();
  }
};
