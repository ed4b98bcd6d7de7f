import type { MaintenanceReport, TableMaintenanceResult } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse } from '../cli/args.js';
import { EXIT, openApp, type Command } from '../cli/io.js';
import { maintainOne } from '../runtime/maintain-table.js';
import { MaintenanceProgressDisplay } from '../runtime/maintenance-progress.js';

const HELP = `Usage: coldtier maintain [--table T] [--dry-run] [--json] [options]

Maintains the Iceberg tables (all configured ones, or --table): compacts the
small files of partitions no offload wrote to lately into files near the
target size, rewrites small manifests, expires snapshots by the table's
history.expire.* properties (gc.enabled=false refuses) and removes orphan
files older than maintenance.orphanGraceHours. Each table is maintained under
its offload lease: a table being offloaded right now is skipped (busy).
Compaction needs a ClickHouse that shares the warehouse (the embedded one);
otherwise it is skipped. The daemon runs the same every
maintenance.intervalHours.
Exit code: 0 when every action succeeded or was skipped, 1 when one failed,
3 when a table was busy.

Options:
      --table T              only this configured table
      --dry-run              report what would change; commit and delete nothing
      --json                 the reports as JSON
${COMMON_HELP}`;

export const maintain: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, table: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return EXIT.ok;
  }
  const app = await openApp(values, io, 'maintain');
  try {
    const tables = values.table === undefined ? app.config.tables : [findTable(app.config, values.table)];
    const results: { table: string; result: TableMaintenanceResult }[] = [];
    for (const table of tables) {
      const onProgress = new MaintenanceProgressDisplay(io, table.name).update;
      results.push({ table: table.name, result: await maintainOne(app, table, { dryRun: values['dry-run'] === true, onProgress, owner: `coldtier-maintain-${process.pid}` }) });
    }
    io.out(values.json ? `${JSON.stringify(results, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : `${results.map(formatResult).join('\n\n')}\n`);
    if (results.some((r) => r.result.status === 'done' && r.result.report.actions.some((a) => a.status === 'failed'))) return EXIT.failed;
    return results.some((r) => r.result.status === 'busy') ? EXIT.partial : EXIT.ok;
  } finally {
    await app.close();
  }
};

function formatResult({ table, result }: { table: string; result: TableMaintenanceResult }): string {
  if (result.status !== 'done') return `${table}: ${result.status}, skipped (${result.reason})`;
  const r: MaintenanceReport = result.report;
  const stat = (label: string, key: keyof MaintenanceReport['before']) => `${label} ${r.before[key]} -> ${r.after[key]}`;
  return [
    `${table} (${r.table})${r.dryRun ? ', dry run: nothing changed' : ''}`,
    `  ${[stat('data files', 'dataFiles'), stat('max files/partition', 'maxFilesPerPartition'), stat('manifests', 'manifests'), stat('snapshots', 'snapshots')].join(', ')}`,
    ...r.actions.map((a) => `  ${a.action.padEnd(18)} ${a.status.padEnd(8)} ${a.durationSeconds.toFixed(1)}s  ${describeDetail(a.detail)}`),
  ].join('\n');
}

function describeDetail(detail: MaintenanceReport['actions'][number]['detail']): string {
  if (typeof detail === 'string') return detail;
  if ('groups' in detail) return `${detail.filesRewritten} files in ${detail.groups} groups -> ${detail.filesAdded} files (${detail.bytesRewritten} bytes)`;
  if ('manifestsBefore' in detail) return `manifests ${detail.manifestsBefore} -> ${detail.manifestsAfter}`;
  if ('expiredSnapshotIds' in detail) return `${detail.expiredSnapshotIds.length} snapshots expired, ${detail.deletedDataFiles.length} data files and ${detail.deletedManifests.length} manifests deleted`;
  return `${detail.dataFiles.length} data and ${detail.metadataFiles.length} metadata orphan files (${detail.bytes} bytes)`;
}
