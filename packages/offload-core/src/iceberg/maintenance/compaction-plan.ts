import type { DataFile } from '../spec/data-file.js';
import { partitionKey } from '../spec/snapshot.js';
import { snapshotById, type TableMetadata } from '../spec/table-metadata.js';
import type { LiveDataFile } from '../transaction/table-scan.js';

/** How compaction chooses files (Iceberg's `rewrite_data_files` bin-pack options). */
export interface CompactionPolicy {
  /** Output files are packed up to this size. */
  readonly targetFileSizeBytes: number;
  /** Files below this size are candidates (Iceberg: 75% of the target). */
  readonly minFileSizeBytes: number;
  /** A partition is rewritten only with at least this many candidates, or candidates of at least the target size together (Iceberg: 5). */
  readonly minInputFiles: number;
  /**
   * Only partitions no snapshot added a file to for this long are compacted,
   * so compaction keeps off the partitions the offload is still appending to.
   */
  readonly minQuietMs: number;
}

/** Iceberg's `write.target-file-size-bytes` default is 512 MiB; Coldtier's offload rolls files at 128 MiB. */
const DEFAULT_TARGET = 128 * 1024 * 1024;

/** The policy from table properties (`write.target-file-size-bytes`) and overrides. */
export function compactionPolicyOf(properties: Readonly<Record<string, string>>, overrides: Partial<CompactionPolicy> = {}): CompactionPolicy {
  const raw = properties['write.target-file-size-bytes'];
  const target = overrides.targetFileSizeBytes ?? (raw !== undefined && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : DEFAULT_TARGET);
  return {
    targetFileSizeBytes: target,
    minFileSizeBytes: overrides.minFileSizeBytes ?? Math.floor(target * 0.75),
    minInputFiles: overrides.minInputFiles ?? 5,
    minQuietMs: overrides.minQuietMs ?? 60 * 60 * 1000,
  };
}

/** Files of one partition to be rewritten into one file. */
export interface CompactionGroup {
  readonly specId: number;
  readonly partition: DataFile['partition'];
  readonly files: readonly DataFile[];
}

/**
 * Bin-packs the small files of each quiet partition (first fit decreasing,
 * bins up to the target size), files with the same columns together (their
 * metrics' field ids). A bin of one file is left alone: rewriting it changes
 * nothing. Pure: the live files and the clock come in.
 */
export function planCompaction(metadata: TableMetadata, live: readonly LiveDataFile[], policy: CompactionPolicy, nowMs: number): CompactionGroup[] {
  const lastWrite = new Map<string, number>();
  const byColumns = new Map<string, { specId: number; partition: string; files: LiveDataFile[] }>();
  for (const f of live) {
    const partition = `${f.specId}\u0002${partitionKey(f.dataFile.partition)}`;
    const writtenAt = snapshotById(metadata, f.snapshotId)?.timestampMs ?? 0;
    lastWrite.set(partition, Math.max(lastWrite.get(partition) ?? 0, writtenAt));
    // Files with different columns (before and after a schema change) are never packed together.
    const key = `${partition}\u0002${[...f.dataFile.valueCounts.keys()].sort((a, b) => a - b).join(',')}`;
    const group = byColumns.get(key) ?? { specId: f.specId, partition, files: [] };
    group.files.push(f);
    byColumns.set(key, group);
  }
  const groups: CompactionGroup[] = [];
  for (const { specId, partition, files } of byColumns.values()) {
    if (nowMs - (lastWrite.get(partition) ?? 0) < policy.minQuietMs) continue;
    const candidates = files.map((f) => f.dataFile).filter((f) => f.fileSizeInBytes < BigInt(policy.minFileSizeBytes));
    const total = candidates.reduce((n, f) => n + Number(f.fileSizeInBytes), 0);
    if (candidates.length < 2 || (candidates.length < policy.minInputFiles && total < policy.targetFileSizeBytes)) continue;
    for (const bin of binPack(candidates, policy.targetFileSizeBytes)) {
      if (bin.length > 1) groups.push({ specId, partition: bin[0]!.partition, files: bin });
    }
  }
  return groups;
}

function binPack(files: readonly DataFile[], target: number): DataFile[][] {
  const bins: { size: number; files: DataFile[] }[] = [];
  for (const f of [...files].sort((a, b) => Number(b.fileSizeInBytes - a.fileSizeInBytes))) {
    const size = Number(f.fileSizeInBytes);
    const bin = bins.find((b) => b.size + size <= target);
    if (bin) {
      bin.size += size;
      bin.files.push(f);
    } else {
      bins.push({ size, files: [f] });
    }
  }
  return bins.map((b) => b.files);
}
