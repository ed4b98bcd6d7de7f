import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { snapshotById } from '../src/iceberg/spec/table-metadata.js';
import { expireSnapshots, GcDisabledError } from '../src/iceberg/transaction/expire-snapshots.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, mainAncestry, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, tradesSchema } from './iceberg-helpers.js';

const DAY = 24 * 60 * 60 * 1000;

describe('expiring snapshots', () => {
  let dir: TempDir;
  let clock: ManualClock;
  let catalog: FilesystemCatalog;
  const id = { namespace: ['cold'], name: 'trades' };

  beforeEach(async () => {
    dir = await createTempDir();
    clock = new ManualClock(Date.UTC(2024, 0, 1));
    catalog = new FilesystemCatalog({ warehouse: dir.path, clock });
    // Merging every 3 manifests leaves manifests only old snapshots list.
    await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] }, properties: { 'commit.manifest.min-count-to-merge': '3' } });
    for (let day = 0; day < 6; day++) {
      const path = join(dir.path, `d${day}.parquet`);
      await writeFile(path, 'x');
      await fastAppend(catalog, id, [fakeDataFile(path, 10)], { clock, sleep: noSleep });
      clock.advance(DAY);
    }
  });
  afterEach(() => dir.remove());

  const exists = (p: string): Promise<boolean> => catalog.io.exists(p);

  it('keeps retain_last ancestors of main and every tagged snapshot; deletes only what no retained snapshot reaches', async () => {
    const before = await catalog.loadTable(id);
    const chain = mainAncestry(before.metadata);
    const tagged = chain[4]!.snapshotId;
    await catalog.commitTable(id, [], [{ action: 'set-snapshot-ref', refName: 'audit', snapshotId: tagged, type: 'tag' }]);

    const dry = await expireSnapshots(catalog, id, { olderThanMs: clock.now().getTime(), retainLast: 2, dryRun: true, clock });
    expect(dry.dryRun).toBe(true);
    expect((await catalog.loadTable(id)).metadata.snapshots).toHaveLength(6);
    for (const f of [...dry.deletedManifestLists, ...dry.deletedManifests]) expect(await exists(f)).toBe(true);

    const report = await expireSnapshots(catalog, id, { olderThanMs: clock.now().getTime(), retainLast: 2, clock });
    const expected = [chain[5]!, chain[3]!, chain[2]!].map((s) => s.snapshotId);
    expect(report.expiredSnapshotIds).toEqual(expected);
    expect({ ...report, dryRun: true }).toEqual(dry);
    expect(report.retainedSnapshots).toBe(3);

    const { metadata } = await catalog.loadTable(id);
    expect(metadata.snapshots.map((s) => s.snapshotId).sort()).toEqual([chain[0]!, chain[1]!, chain[4]!].map((s) => s.snapshotId).sort());
    expect(metadata.snapshotLog.every((e) => snapshotById(metadata, e.snapshotId))).toBe(true);
    // Expired manifest lists are gone; merged-away manifests too; every file a retained snapshot lists is still there.
    expect(report.deletedManifestLists).toEqual(expect.arrayContaining(expected.map((sid) => expect.stringContaining(`snap-${sid}-`))));
    for (const f of report.deletedManifestLists) expect(await exists(f)).toBe(false);
    expect(report.deletedManifests.length).toBeGreaterThan(0);
    for (const f of report.deletedManifests) expect(await exists(f)).toBe(false);
    for (const s of metadata.snapshots) {
      expect(await exists(s.manifestList)).toBe(true);
      for (const m of await readSnapshotManifests(catalog.io, s)) expect(await exists(m.manifestPath)).toBe(true);
    }
    // Appends only: every data file is still live at the head.
    expect(report.deletedDataFiles).toEqual([]);
    // Time travel to the tag still reads its files.
    const atTag = await listLiveDataFiles(catalog.io, metadata, snapshotById(metadata, tagged));
    expect(atTag).toHaveLength(2);
  });

  it('keeps snapshots younger than the age cutoff, from history.expire.max-snapshot-age-ms by default', async () => {
    await catalog.commitTable(id, [], [{ action: 'set-properties', updates: { 'history.expire.max-snapshot-age-ms': String(3 * DAY) } }]);
    const report = await expireSnapshots(catalog, id, { clock });
    // Snapshots of days 0..2 are older than now − 3 days (day 6); days 3..5 stay.
    expect(report.expiredSnapshotIds).toHaveLength(3);
    expect((await catalog.loadTable(id)).metadata.snapshots).toHaveLength(3);
    expect(await expireSnapshots(catalog, id, { clock })).toMatchObject({ expiredSnapshotIds: [], retainedSnapshots: 3 });
  });

  it('refuses a table with gc.enabled=false and changes nothing', async () => {
    await catalog.commitTable(id, [], [{ action: 'set-properties', updates: { 'gc.enabled': 'false' } }]);
    const before = await catalog.loadTable(id);
    await expect(expireSnapshots(catalog, id, { olderThanMs: clock.now().getTime(), clock })).rejects.toBeInstanceOf(GcDisabledError);
    expect((await catalog.loadTable(id)).metadataLocation).toBe(before.metadataLocation);
  });
});
