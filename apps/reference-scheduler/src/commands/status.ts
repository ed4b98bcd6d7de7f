import { COMMON_HELP, COMMON_OPTIONS, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { openTtlMonitor, tableTtls } from '../runtime/boundary.js';
import { formatStatusTable, tableStatuses } from '../runtime/table-status.js';

const HELP = `Usage: coldtier status [options]

Prints every configured table's watermark, lag (minutes since its last
successful offload), status and consecutive failures, from the watermark store,
and the TTL headroom of sources with a row TTL (time until ClickHouse may
delete the oldest row not yet in Iceberg), from ClickHouse.
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
    const probes = await (await openTtlMonitor(app, store)).probe();
    const now = new Date();
    const rows = tableStatuses(app.config.tables, await store.list(), now, undefined, tableTtls(app.config.tables, probes, now));
    io.out(values.json ? `${JSON.stringify({ tables: rows }, null, 2)}\n` : `${formatStatusTable(rows)}\n`);
    return 0;
  } finally {
    await app.close();
  }
};
