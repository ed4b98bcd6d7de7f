import { describe, expect, it } from 'vitest';
import { compactionPolicyOf, planCompaction } from '../src/iceberg/maintenance/compaction-plan.js';
import { newTableMetadata, type TableMetadata } from '../src/iceberg/spec/table-metadata.js';
import type { LiveDataFile } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, tradesSchema } from './iceberg-helpers.js';

const MB = 1024 * 1024;
const HOUR = 3_600_000;

/** Metadata with one snapshot per timestamp, ids 1.. in order. */
function metadataWith(timestamps: readonly number[]): TableMetadata {
  const base = newTableMetadata({ tableUuid: 'u', location: '/t', schema: tradesSchema, spec: { 'spec-id': 0, fields: [] }, properties: {}, nowMs: 0 });
  return {
    ...base,
    snapshots: timestamps.map((t, i) => ({ snapshotId: BigInt(i + 1), sequenceNumber: i + 1, timestampMs: t, manifestList: `/l${i}`, summary: { operation: 'append' } })),
  };
}

function file(path: string, sizeMb: number, partition: string, snapshotId: bigint, columns = [1]): LiveDataFile {
  const f = fakeDataFile(path, 10, [partition]);
  return {
    dataFile: { ...f, fileSizeInBytes: BigInt(sizeMb * MB), valueCounts: new Map(columns.map((c) => [c, 10n])) },
    snapshotId,
    sequenceNumber: snapshotId,
    specId: 0,
  };
}

describe('compaction planning', () => {
  const policy = compactionPolicyOf({ 'write.target-file-size-bytes': String(100 * MB) }, { minInputFiles: 3 });

  it('bin-packs small files of quiet partitions up to the target, leaving big files, busy partitions and lone files alone', () => {
    const metadata = metadataWith([0, 0, 10 * HOUR]);
    const live = [
      // Day a: quiet; first fit decreasing packs 40+40+20 into one 100 MB bin and leaves 30 alone; the 90 MB file is big enough already.
      file('/a1', 40, 'a', 1n),
      file('/a2', 40, 'a', 1n),
      file('/a3', 30, 'a', 2n),
      file('/a4', 20, 'a', 2n),
      file('/a5', 90, 'a', 2n),
      // Day b: written 30 minutes ago, still being appended to.
      file('/b1', 1, 'b', 3n),
      file('/b2', 1, 'b', 3n),
      file('/b3', 1, 'b', 3n),
      // Day c: two small files, fewer than minInputFiles and under the target together.
      file('/c1', 1, 'c', 1n),
      file('/c2', 1, 'c', 1n),
    ];
    const groups = planCompaction(metadata, live, policy, 10.5 * HOUR);
    expect(groups.map((g) => g.files.map((f) => f.filePath).sort())).toEqual([['/a1', '/a2', '/a4']]);
    expect(groups.every((g) => g.partition[0] === 'a' && g.specId === 0)).toBe(true);
  });

  it('never packs files written before and after a column was added together', () => {
    const live = [1, 2, 3].flatMap((i) => [file(`/old${i}`, 1, 'a', 1n, [1, 2]), file(`/new${i}`, 1, 'a', 1n, [1, 2, 3])]);
    const groups = planCompaction(metadataWith([0]), live, policy, 2 * HOUR);
    expect(groups.map((g) => g.files.map((f) => f.filePath).sort())).toEqual([
      ['/old1', '/old2', '/old3'],
      ['/new1', '/new2', '/new3'],
    ]);
  });
});
