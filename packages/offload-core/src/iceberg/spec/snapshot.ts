import type { DataFile } from './data-file.js';

/** Snapshot operations of the spec; Coldtier only ever appends. */
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
  let records = 0n;
  let size = 0n;
  const partitions = new Set<string>();
  for (const f of added) {
    records += f.recordCount;
    size += f.fileSizeInBytes;
    partitions.add(partitionKey(f.partition));
  }
  const totals: Record<string, bigint> = {};
  for (const key of TOTALS) totals[key] = total(parent, key);
  totals['total-records'] = (totals['total-records'] ?? 0n) + records;
  totals['total-files-size'] = (totals['total-files-size'] ?? 0n) + size;
  totals['total-data-files'] = (totals['total-data-files'] ?? 0n) + BigInt(added.length);
  const computed: Record<string, string> = {
    'added-data-files': String(added.length),
    'added-records': String(records),
    'added-files-size': String(size),
    'changed-partition-count': String(partitions.size),
  };
  for (const key of TOTALS) computed[key] = String(totals[key]);
  const extra = Object.entries(properties).filter(([k]) => k !== 'operation' && !(k in computed));
  return { operation: 'append', ...Object.fromEntries(extra), ...computed };
}

/** A stable string for a partition tuple, to count distinct partitions. */
export function partitionKey(values: readonly unknown[]): string {
  return values
    .map((v) =>
      v === null ? '\u0000null' : v instanceof Uint8Array ? `b:${Buffer.from(v).toString('hex')}` : `${typeof v}:${String(v)}`,
    )
    .join('\u0001');
}
