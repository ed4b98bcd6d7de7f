import { boundaryViewName } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { assertViewReadable, openBoundaryViews } from '../runtime/boundary.js';

const HELP = `Usage: coldtier view --table NAME [--apply]

Prints (or, with --apply, creates) the ClickHouse view <database>.<table>_all
over both tiers: the hot table's rows after the committed watermark UNION ALL
the Iceberg table's rows at or before it (read with icebergLocal, or
icebergS3 on object storage), with the source's column names and types.
Every row appears exactly once while the hot table still holds the rows
after the watermark (see the TTL headroom). A running scheduler moves the
boundary of an existing view after each commit.

The embedded ClickHouse reads the warehouse relative to its working
directory: query the view from the directory the scheduler runs in. On S3,
ClickHouse reads through the named collection storage.s3.clickhouse.namedCollection
(create it on the server with the store's credentials; the view holds none).

Options:
      --table NAME           the configured table
      --apply                create or replace the view instead of printing it
${COMMON_HELP}`;

export const view: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, table: { type: 'string' }, apply: { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const app = await openApp(values, io, 'view');
  try {
    const table = findTable(app.config, values.table);
    const views = await openBoundaryViews(app);
    assertViewReadable(app);
    if (!values.apply) {
      io.out(`${await views.sql(table)};\n`);
      return 0;
    }
    await views.apply(table);
    const name = boundaryViewName(table);
    io.out(`created view ${name.namespace}.${name.name}\n`);
    return 0;
  } finally {
    await app.close();
  }
};
