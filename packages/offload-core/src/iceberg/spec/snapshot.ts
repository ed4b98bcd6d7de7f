import type { DataFile } from './data-file.js';

/** Snapshot operations of the spec; Coldtier appends, and compaction replaces. */
export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

/** A snapshot summary: `operation` plus string properties (totals, engine info, `coldtier.*`). */
export interface SnapshotSummary {
  readonly operation: SnapshotOperation;
  readonly [key: string]: string;
}

/** A snapshot of a format-v2 table. */
export interface Snapshot {
  readonly snapshotId: bigint;
  readonly parentSnapshotId?: bigint;
  readonly sequenceNumber: number;
  readonly timestampMs: number;
  readonly manifestList: string;
  readonly summary: SnapshotSummary;
  readonly schemaId?: number;
}

/** A named reference (`main` is the table's current state). */
export interface SnapshotRef {
  readonly snapshotId: bigint;
  readonly type: 'branch' | 'tag';
}

export const MAIN_BRANCH = 'main';

/** The totals a summary carries forward from snapshot to snapshot. */
const TOTALS = [
  'total-records',
  'total-files-size',
  'total-data-files',
  'total-delete-files',
  'total-position-deletes',
  'total-equality-deletes',
] as const;

function total(summary: SnapshotSummary | undefined, key: string): bigint {
  const v = summary?.[key];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : 0n;
}

/**
 * The summary of an append of `added` on top of `parent`: the `added-*`
 * counts, the `total-*` totals Spark's writer records, and the caller's
 * extra properties (which may not override the computed keys).
 */
export function appendSummary(
  parent: SnapshotSummary | undefined,
  added: readonly DataFile[],
  properties: Readonly<Record<string, string>> = {},
): SnapshotSummary {
  return changeSummary('append', parent, added, [], properties);
}

/** The summary of a `replace` of `deleted` by `added` (a compaction): same rows, other files. */
export function replaceSummary(
  parent: SnapshotSummary | undefined,
  added: readonly DataFile[],
  deleted: readonly DataFile[],
  properties: Readonly<Record<string, string>> = {},
): SnapshotSummary {
  return changeSummary('replace', parent, added, deleted, properties);
}

function changeSummary(
  operation: SnapshotOperation,
  parent: SnapshotSummary | undefined,
  added: readonly DataFile[],
  deleted: readonly DataFile[],
  properties: Readonly<Record<string, string>>,
): SnapshotSummary {
  const sum = (files: readonly DataFile[], of: (f: DataFile) => bigint): bigint => files.reduce((n, f) => n + of(f), 0n);
  const [addedRecords, deletedRecords] = [sum(added, (f) => f.recordCount), sum(deleted, (f) => f.recordCount)];
  const [addedSize, removedSize] = [sum(added, (f) => f.fileSizeInBytes), sum(deleted, (f) => f.fileSizeInBytes)];
  const partitions = new Set([...added, ...deleted].map((f) => partitionKey(f.partition)));
  const totals: Record<string, bigint> = {};
  for (const key of TOTALS) totals[key] = total(parent, key);
  totals['total-records'] = (totals['total-records'] ?? 0n) + addedRecords - deletedRecords;
  totals['total-files-size'] = (totals['total-files-size'] ?? 0n) + addedSize - removedSize;
  totals['total-data-files'] = (totals['total-data-files'] ?? 0n) + BigInt(added.length - deleted.length);
  const computed: Record<string, string> = {
    'added-data-files': String(added.length),
    'added-records': String(addedRecords),
    'added-files-size': String(addedSize),
    ...(deleted.length > 0
      ? { 'deleted-data-files': String(deleted.length), 'deleted-records': String(deletedRecords), 'removed-files-size': String(removedSize) }
      : {}),
    'changed-partition-count': String(partitions.size),
  };
  for (const key of TOTALS) computed[key] = String(totals[key]);
  const extra = Object.entries(properties).filter(([k]) => k !== 'operation' && !(k in computed));
  return { operation, ...Object.fromEntries(extra), ...computed };
}

/** A stable string for a partition tuple, to count distinct partitions. */
export function partitionKey(values: readonly unknown[]): string {
  return values
    .map((v) =>
      v === null ? '\u0000null' : v instanceof Uint8Array ? `b:${Buffer.from(v).toString('hex')}` : `${typeof v}:${String(v)}`,
    )
    .join('\u0001');
}
