import { IcebergSpecError } from './errors.js';
import { highestPartitionFieldId, type PartitionSpec } from './partition.js';
import { highestFieldId } from './schema.js';
import { MAIN_BRANCH, type Snapshot } from './snapshot.js';
import type { TableMetadata } from './table-metadata.js';
import type { IcebergSchema } from './types.js';

/**
 * A change to table metadata, named like the Iceberg REST catalog's
 * `TableUpdate` actions. `set-current-schema` / `set-default-spec` accept -1
 * for "the one added last in this commit", as the REST protocol does.
 */
export type TableUpdate =
  | { readonly action: 'add-schema'; readonly schema: IcebergSchema }
  | { readonly action: 'set-current-schema'; readonly schemaId: number }
  | { readonly action: 'add-spec'; readonly spec: PartitionSpec }
  | { readonly action: 'set-default-spec'; readonly specId: number }
  | { readonly action: 'add-snapshot'; readonly snapshot: Snapshot }
  | { readonly action: 'set-snapshot-ref'; readonly refName: string; readonly snapshotId: bigint; readonly type: 'branch' | 'tag' }
  | { readonly action: 'remove-snapshots'; readonly snapshotIds: readonly bigint[] }
  | { readonly action: 'remove-snapshot-ref'; readonly refName: string }
  | { readonly action: 'set-properties'; readonly updates: Readonly<Record<string, string>> }
  | { readonly action: 'remove-properties'; readonly removals: readonly string[] };

/**
 * A condition the table must meet for a commit to apply, like the REST
 * catalog's `TableRequirement`s; checked against the latest metadata.
 */
export type TableRequirement =
  | { readonly type: 'assert-table-uuid'; readonly uuid: string }
  | { readonly type: 'assert-ref-snapshot-id'; readonly ref: string; readonly snapshotId: bigint | null }
  | { readonly type: 'assert-current-schema-id'; readonly currentSchemaId: number }
  | { readonly type: 'assert-last-assigned-field-id'; readonly lastAssignedFieldId: number }
  | { readonly type: 'assert-default-spec-id'; readonly defaultSpecId: number }
  | { readonly type: 'assert-last-assigned-partition-id'; readonly lastAssignedPartitionId: number };

/** The first requirement `metadata` fails, described; undefined when all hold. */
export function failedRequirement(metadata: TableMetadata, requirements: readonly TableRequirement[]): string | undefined {
  for (const r of requirements) {
    switch (r.type) {
      case 'assert-table-uuid':
        if (metadata.tableUuid !== r.uuid) return `table uuid is ${metadata.tableUuid}, expected ${r.uuid}`;
        break;
      case 'assert-ref-snapshot-id': {
        const actual = metadata.refs[r.ref]?.snapshotId ?? null;
        if (actual !== r.snapshotId) {
          return `branch ${r.ref} is at snapshot ${String(actual)}, expected ${String(r.snapshotId)}`;
        }
        break;
      }
      case 'assert-current-schema-id':
        if (metadata.currentSchemaId !== r.currentSchemaId) {
          return `current schema is ${metadata.currentSchemaId}, expected ${r.currentSchemaId}`;
        }
        break;
      case 'assert-last-assigned-field-id':
        if (metadata.lastColumnId !== r.lastAssignedFieldId) {
          return `last column id is ${metadata.lastColumnId}, expected ${r.lastAssignedFieldId}`;
        }
        break;
      case 'assert-default-spec-id':
        if (metadata.defaultSpecId !== r.defaultSpecId) return `default spec is ${metadata.defaultSpecId}, expected ${r.defaultSpecId}`;
        break;
      case 'assert-last-assigned-partition-id':
        if (metadata.lastPartitionId !== r.lastAssignedPartitionId) {
          return `last partition id is ${metadata.lastPartitionId}, expected ${r.lastAssignedPartitionId}`;
        }
        break;
    }
  }
  return undefined;
}

/**
 * Applies updates to metadata, purely. `nowMs` stamps `last-updated-ms`.
 * Invalid updates (a snapshot whose parent is unknown, a ref to a missing
 * snapshot, a stale sequence number) throw {@link IcebergSpecError}.
 */
export function applyUpdates(base: TableMetadata, updates: readonly TableUpdate[], nowMs: number): TableMetadata {
  let m: TableMetadata = base;
  let lastSchemaId: number | undefined;
  let lastSpecId: number | undefined;
  for (const u of updates) {
    switch (u.action) {
      case 'add-schema': {
        if (m.schemas.some((s) => s['schema-id'] === u.schema['schema-id'])) {
          throw new IcebergSpecError(`schema id ${u.schema['schema-id']} already exists in ${m.location}`);
        }
        m = { ...m, schemas: [...m.schemas, u.schema], lastColumnId: Math.max(m.lastColumnId, highestFieldId(u.schema)) };
        lastSchemaId = u.schema['schema-id'];
        break;
      }
      case 'set-current-schema': {
        const id = u.schemaId === -1 ? lastSchemaId : u.schemaId;
        if (id === undefined || !m.schemas.some((s) => s['schema-id'] === id)) {
          throw new IcebergSpecError(`cannot set current schema to unknown schema ${u.schemaId}`);
        }
        m = { ...m, currentSchemaId: id };
        break;
      }
      case 'add-spec': {
        if (m.partitionSpecs.some((s) => s['spec-id'] === u.spec['spec-id'])) {
          throw new IcebergSpecError(`partition spec id ${u.spec['spec-id']} already exists in ${m.location}`);
        }
        const partitionSpecs = [...m.partitionSpecs, u.spec];
        m = { ...m, partitionSpecs, lastPartitionId: Math.max(m.lastPartitionId, highestPartitionFieldId(partitionSpecs)) };
        lastSpecId = u.spec['spec-id'];
        break;
      }
      case 'set-default-spec': {
        const id = u.specId === -1 ? lastSpecId : u.specId;
        if (id === undefined || !m.partitionSpecs.some((s) => s['spec-id'] === id)) {
          throw new IcebergSpecError(`cannot set default spec to unknown spec ${u.specId}`);
        }
        m = { ...m, defaultSpecId: id };
        break;
      }
      case 'add-snapshot':
        m = addSnapshot(m, u.snapshot);
        break;
      case 'set-snapshot-ref':
        m = setRef(m, u.refName, u.snapshotId, u.type);
        break;
      case 'remove-snapshots':
        m = removeSnapshots(m, new Set(u.snapshotIds));
        break;
      case 'remove-snapshot-ref':
        m = removeRef(m, u.refName);
        break;
      case 'set-properties':
        m = { ...m, properties: { ...m.properties, ...u.updates } };
        break;
      case 'remove-properties':
        m = { ...m, properties: Object.fromEntries(Object.entries(m.properties).filter(([k]) => !u.removals.includes(k))) };
        break;
    }
  }
  return { ...m, lastUpdatedMs: Math.max(nowMs, m.lastUpdatedMs) };
}

function addSnapshot(m: TableMetadata, s: Snapshot): TableMetadata {
  if (m.snapshots.some((x) => x.snapshotId === s.snapshotId)) {
    throw new IcebergSpecError(`snapshot ${s.snapshotId} already exists in ${m.location}`);
  }
  if (s.parentSnapshotId !== undefined && !m.snapshots.some((x) => x.snapshotId === s.parentSnapshotId)) {
    throw new IcebergSpecError(`snapshot ${s.snapshotId} has unknown parent ${s.parentSnapshotId}`);
  }
  if (s.sequenceNumber <= m.lastSequenceNumber) {
    throw new IcebergSpecError(
      `snapshot ${s.snapshotId} has sequence number ${s.sequenceNumber}, not above the table's ${m.lastSequenceNumber}`,
    );
  }
  return { ...m, snapshots: [...m.snapshots, s], lastSequenceNumber: s.sequenceNumber };
}

function setRef(m: TableMetadata, name: string, snapshotId: bigint, type: 'branch' | 'tag'): TableMetadata {
  const snapshot = m.snapshots.find((x) => x.snapshotId === snapshotId);
  if (!snapshot) throw new IcebergSpecError(`ref ${name} cannot point at unknown snapshot ${snapshotId}`);
  const refs = { ...m.refs, [name]: { snapshotId, type } };
  if (name !== MAIN_BRANCH) return { ...m, refs };
  return {
    ...m,
    refs,
    currentSnapshotId: snapshotId,
    snapshotLog: [...m.snapshotLog, { timestampMs: snapshot.timestampMs, snapshotId }],
  };
}

/**
 * Drops snapshots, the refs pointing at them, their statistics and, as
 * Iceberg's Java builder does, the snapshot log up to the last removed entry
 * (the log must stay a contiguous history of existing snapshots).
 */
function removeSnapshots(m: TableMetadata, ids: ReadonlySet<bigint>): TableMetadata {
  if (ids.size === 0) return m;
  const refs = Object.fromEntries(Object.entries(m.refs).filter(([, r]) => !ids.has(r.snapshotId)));
  const lastRemoved = m.snapshotLog.findLastIndex((e) => ids.has(e.snapshotId));
  const statsOf = (s: unknown): bigint | undefined => {
    const id = (s as { 'snapshot-id'?: unknown } | null)?.['snapshot-id'];
    return typeof id === 'bigint' ? id : typeof id === 'number' ? BigInt(id) : undefined;
  };
  return {
    ...m,
    snapshots: m.snapshots.filter((s) => !ids.has(s.snapshotId)),
    refs,
    currentSnapshotId: m.currentSnapshotId !== null && ids.has(m.currentSnapshotId) ? null : m.currentSnapshotId,
    snapshotLog: m.snapshotLog.slice(lastRemoved + 1),
    statistics: m.statistics.filter((s) => !ids.has(statsOf(s) ?? -1n)),
    partitionStatistics: m.partitionStatistics.filter((s) => !ids.has(statsOf(s) ?? -1n)),
  };
}

function removeRef(m: TableMetadata, name: string): TableMetadata {
  const refs = Object.fromEntries(Object.entries(m.refs).filter(([n]) => n !== name));
  return name === MAIN_BRANCH ? { ...m, refs, currentSnapshotId: null } : { ...m, refs };
}
