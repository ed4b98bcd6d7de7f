import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { runTableMaintenance } from '../src/maintenance/run.js';
import { configSchema } from '../src/config/schema.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { fakeDataFile, tradesSchema } from './iceberg-helpers.js';
import { tableConfig } from './embedded-helpers.js';

describe('maintenance under the table lease', () => {
  let dir: TempDir;
  let catalog: FilesystemCatalog;
  const table = tableConfig({ name: 'leased' });
  const id = { namespace: ['cold'], name: 'leased' };
  const maintenance = configSchema.parse({ tables: [{ source: 'k2.t', target: 'cold.t', layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' }] }).maintenance;

  beforeEach(async () => {
    dir = await createTempDir();
    catalog = new FilesystemCatalog({ warehouse: dir.path });
  });
  afterEach(() => dir.remove());

  it('skips a table not created yet and a table an offload holds, and releases the lease when done', async () => {
    const store = new InMemoryWatermarkStore();
    const options = { store, catalog, table, config: maintenance, leaseOwner: 'maint' };
    expect(await runTableMaintenance(options)).toMatchObject({ status: 'absent' });

    await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
    await fastAppend(catalog, id, [fakeDataFile('/data/a.parquet', 1)]);
    const offload = await store.acquireLease('leased', 'offload', 60_000);
    const busy = await runTableMaintenance(options);
    expect(busy).toMatchObject({ status: 'busy' });
    expect((await catalog.loadTable(id)).metadata.snapshots).toHaveLength(1);
    await store.releaseLease(offload);

    const done = await runTableMaintenance(options);
    expect(done.status).toBe('done');
    if (done.status !== 'done') return;
    // No ClickHouse: compaction reports why it was skipped; the rest ran.
    expect(done.report.actions.map((a) => [a.action, a.status])).toEqual([
      ['compact', 'skipped'],
      ['rewrite_manifests', 'success'],
      ['expire_snapshots', 'success'],
      ['remove_orphans', 'success'],
    ]);
    // The lease is free again for the next offload.
    await expect(store.acquireLease('leased', 'offload', 60_000)).resolves.toMatchObject({ owner: 'offload' });
  });

  it('skips, not fails, expiry and orphan removal on a table with gc.enabled=false, and deletes nothing', async () => {
    await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] }, properties: { 'gc.enabled': 'false' } });
    await fastAppend(catalog, id, [fakeDataFile('/data/a.parquet', 1)]);
    await fastAppend(catalog, id, [fakeDataFile('/data/b.parquet', 1)]);
    const done = await runTableMaintenance({ store: new InMemoryWatermarkStore(), catalog, table, config: { ...maintenance, orphanGraceHours: 0.0001 }, leaseOwner: 'm' });
    expect(done.status === 'done' && done.report.actions.map((a) => [a.action, a.status, typeof a.detail === 'string' ? a.detail : ''])).toEqual([
      ['compact', 'skipped', expect.stringContaining('no data file rewriter')],
      ['rewrite_manifests', 'success', ''],
      ['expire_snapshots', 'skipped', expect.stringContaining('gc.enabled is false')],
      ['remove_orphans', 'skipped', expect.stringContaining('cannot remove orphan files of cold.leased: gc.enabled is false')],
    ]);
  });

  it('runs only the configured actions', async () => {
    await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
    const done = await runTableMaintenance({ store: new InMemoryWatermarkStore(), catalog, table, config: { ...maintenance, actions: ['expire_snapshots'] }, leaseOwner: 'm' });
    expect(done.status === 'done' && done.report.actions.map((a) => a.action)).toEqual(['expire_snapshots']);
  });
});
