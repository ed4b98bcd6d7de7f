import { cleanOrphanDataFiles, findOrphanDataFiles, OffloadError, targetIdentifier, UnknownTableError } from '@coldtier/offload-core';
import type { OrphanDataFile } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse, parseDuration } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';
import { createCatalog } from '../runtime/runner.js';

const HELP = `Usage: coldtier clean-orphans [--older-than 3d] [--dry-run] [--table T] [options]

Deletes the data files of runs that never committed (killed, refused or
aborted runs): files under a table's data/ directory that no snapshot
references and that were last modified before the grace period. Keep the
grace period well above the longest run. Embedded runner, local warehouse.

Options:
      --older-than DURATION  grace period: 3d (default), 12h, ...
      --dry-run              list the files, delete nothing
      --table T              only this configured table (default: all)
${COMMON_HELP}`;

export const cleanOrphans: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' }, table: { type: 'string' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const olderThanMs = parseDuration('older-than', values['older-than'] ?? '3d');
  const app = await openApp(values, io, 'clean-orphans');
  try {
    const runner = app.config.runner;
    if (runner.kind !== 'embedded') {
      throw new OffloadError('config', 'clean-orphans works on the embedded runner\'s warehouse; with runner.kind "spark" use Spark\'s deleteOrphanFiles');
    }
    const tables = values.table === undefined ? app.config.tables : [findTable(app.config, values.table)];
    const catalog = createCatalog(runner, runner.catalog === 'sql' ? await app.pool() : undefined, app.config);
    const verb = values['dry-run'] ? 'would delete' : 'deleted';
    for (const table of tables) {
      const id = targetIdentifier(table);
      const scan = values['dry-run'] ? findOrphanDataFiles : cleanOrphanDataFiles;
      const orphans = await scan(catalog, id, { olderThanMs }).catch((error: unknown) => {
        if (error instanceof UnknownTableError) return null;
        throw error;
      });
      if (orphans === null) {
        io.out(`${table.name}: no Iceberg table ${table.target} yet\n`);
        continue;
      }
      for (const file of orphans) io.out(`${verb} ${file.location} (${file.sizeBytes} bytes, modified ${file.modifiedAt.toISOString()})\n`);
      io.out(`${table.name}: ${verb} ${orphans.length} orphan data file${orphans.length === 1 ? '' : 's'}, ${totalBytes(orphans)} bytes\n`);
    }
    return 0;
  } finally {
    await app.close();
  }
};

function totalBytes(files: readonly OrphanDataFile[]): number {
  return files.reduce((sum, f) => sum + f.sizeBytes, 0);
}
