import { IcebergSpecError } from './errors.js';
import { parseJson, stringifyJson, type JsonValue } from './json.js';
import { highestPartitionFieldId, type PartitionSpec } from './partition.js';
import { highestFieldId, schemaFromJson } from './schema.js';
import type { Snapshot, SnapshotOperation, SnapshotRef, SnapshotSummary } from './snapshot.js';
import { UNSORTED_ORDER, type SortOrder } from './sort-order.js';
import type { IcebergSchema } from './types.js';

export interface SnapshotLogEntry {
  readonly timestampMs: number;
  readonly snapshotId: bigint;
}

export interface MetadataLogEntry {
  readonly timestampMs: number;
  readonly metadataFile: string;
}

/**
 * Table metadata of format v2. Schemas, specs and sort orders keep the
 * spec's JSON shape; snapshot ids are bigint because they use all 63 bits.
 * Statistics files are carried through untouched.
 */
export interface TableMetadata {
  readonly formatVersion: 2;
  readonly tableUuid: string;
  readonly location: string;
  readonly lastSequenceNumber: number;
  readonly lastUpdatedMs: number;
  readonly lastColumnId: number;
  readonly schemas: readonly IcebergSchema[];
  readonly currentSchemaId: number;
  readonly partitionSpecs: readonly PartitionSpec[];
  readonly defaultSpecId: number;
  readonly lastPartitionId: number;
  readonly sortOrders: readonly SortOrder[];
  readonly defaultSortOrderId: number;
  readonly properties: Readonly<Record<string, string>>;
  readonly currentSnapshotId: bigint | null;
  readonly refs: Readonly<Record<string, SnapshotRef>>;
  readonly snapshots: readonly Snapshot[];
  readonly snapshotLog: readonly SnapshotLogEntry[];
  readonly metadataLog: readonly MetadataLogEntry[];
  readonly statistics: readonly JsonValue[];
  readonly partitionStatistics: readonly JsonValue[];
}

/** Metadata of a new, empty table. */
export function newTableMetadata(input: {
  tableUuid: string;
  location: string;
  schema: IcebergSchema;
  spec: PartitionSpec;
  properties: Readonly<Record<string, string>>;
  nowMs: number;
}): TableMetadata {
  return {
    formatVersion: 2,
    tableUuid: input.tableUuid,
    location: input.location.replace(/\/+$/, ''),
    lastSequenceNumber: 0,
    lastUpdatedMs: input.nowMs,
    lastColumnId: highestFieldId(input.schema),
    schemas: [input.schema],
    currentSchemaId: input.schema['schema-id'],
    partitionSpecs: [input.spec],
    defaultSpecId: input.spec['spec-id'],
    lastPartitionId: highestPartitionFieldId([input.spec]),
    sortOrders: [UNSORTED_ORDER],
    defaultSortOrderId: UNSORTED_ORDER['order-id'],
    properties: { ...input.properties },
    currentSnapshotId: null,
    refs: {},
    snapshots: [],
    snapshotLog: [],
    metadataLog: [],
    statistics: [],
    partitionStatistics: [],
  };
}

export function currentSchema(m: TableMetadata): IcebergSchema {
  const s = m.schemas.find((x) => x['schema-id'] === m.currentSchemaId);
  if (!s) throw new IcebergSpecError(`table ${m.location} has no schema ${m.currentSchemaId}`);
  return s;
}

export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m.partitionSpecs.find((x) => x['spec-id'] === m.defaultSpecId);
  if (!s) throw new IcebergSpecError(`table ${m.location} has no partition spec ${m.defaultSpecId}`);
  return s;
}

export function snapshotById(m: TableMetadata, id: bigint): Snapshot | undefined {
  return m.snapshots.find((s) => s.snapshotId === id);
}

/** The snapshot the `main` branch points at, if any. */
export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  return m.currentSnapshotId === null ? undefined : snapshotById(m, m.currentSnapshotId);
}

/** A snapshot as the spec's JSON object (ids stay bigint; print with `stringifyJson`). */
export function snapshotToJson(s: Snapshot): Record<string, unknown> {
  return {
    'sequence-number': s.sequenceNumber,
    'snapshot-id': s.snapshotId,
    'parent-snapshot-id': s.parentSnapshotId,
    'timestamp-ms': s.timestampMs,
    summary: s.summary,
    'manifest-list': s.manifestList,
    'schema-id': s.schemaId,
  };
}

/** Serialises metadata as the spec's JSON, in the key order Iceberg's Java writer uses. */
export function tableMetadataToJson(m: TableMetadata): string {
  return stringifyJson({
    'format-version': m.formatVersion,
    'table-uuid': m.tableUuid,
    location: m.location,
    'last-sequence-number': m.lastSequenceNumber,
    'last-updated-ms': m.lastUpdatedMs,
    'last-column-id': m.lastColumnId,
    'current-schema-id': m.currentSchemaId,
    schemas: m.schemas,
    'default-spec-id': m.defaultSpecId,
    'partition-specs': m.partitionSpecs,
    'last-partition-id': m.lastPartitionId,
    'default-sort-order-id': m.defaultSortOrderId,
    'sort-orders': m.sortOrders,
    properties: m.properties,
    'current-snapshot-id': m.currentSnapshotId ?? -1,
    refs: Object.fromEntries(
      Object.entries(m.refs).map(([name, r]) => [name, { 'snapshot-id': r.snapshotId, type: r.type }]),
    ),
    snapshots: m.snapshots.map(snapshotToJson),
    statistics: m.statistics,
    'partition-statistics': m.partitionStatistics,
    'snapshot-log': m.snapshotLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'snapshot-id': e.snapshotId })),
    'metadata-log': m.metadataLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'metadata-file': e.metadataFile })),
  });
}

/** Parses a format-v2 metadata file; throws {@link IcebergSpecError} naming the bad key. */
export function tableMetadataFromJson(text: string, source = 'table metadata'): TableMetadata {
  let json: JsonValue;
  try {
    json = parseJson(text);
  } catch (cause) {
    throw new IcebergSpecError(`${source} is not valid JSON`, { cause });
  }
  const r = new Reader(source);
  const o = r.obj(json, '$');
  if (r.num(o, 'format-version') !== 2) {
    throw new IcebergSpecError(`${source}: format-version ${String(o['format-version'])} is not supported (expected 2)`);
  }
  const currentSnapshotId = r.long(o, 'current-snapshot-id', true);
  const refs: Record<string, SnapshotRef> = {};
  for (const [name, ref] of Object.entries(r.obj(o['refs'] ?? {}, 'refs'))) {
    const ro = r.obj(ref, `refs.${name}`);
    refs[name] = { snapshotId: r.long(ro, 'snapshot-id') ?? 0n, type: ro['type'] === 'tag' ? 'tag' : 'branch' };
  }
  const snapshots = r.arr(o, 'snapshots', true).map((s): Snapshot => {
    const so = r.obj(s, 'snapshots[]');
    const summary = r.obj(so['summary'] ?? { operation: 'append' }, 'summary') as Record<string, string>;
    const parent = r.long(so, 'parent-snapshot-id', true);
    const schemaId = so['schema-id'];
    return {
      snapshotId: r.long(so, 'snapshot-id') ?? 0n,
      ...(parent !== null ? { parentSnapshotId: parent } : {}),
      sequenceNumber: r.num(so, 'sequence-number'),
      timestampMs: r.num(so, 'timestamp-ms'),
      manifestList: r.str(so, 'manifest-list'),
      summary: { ...summary, operation: (summary['operation'] ?? 'append') as SnapshotOperation } as SnapshotSummary,
      ...(typeof schemaId === 'number' ? { schemaId } : {}),
    };
  });
  return {
    formatVersion: 2,
    tableUuid: r.str(o, 'table-uuid'),
    location: r.str(o, 'location'),
    lastSequenceNumber: r.num(o, 'last-sequence-number'),
    lastUpdatedMs: r.num(o, 'last-updated-ms'),
    lastColumnId: r.num(o, 'last-column-id'),
    schemas: r.arr(o, 'schemas').map((s) => schemaFromJson(s)),
    currentSchemaId: r.num(o, 'current-schema-id'),
    partitionSpecs: r.arr(o, 'partition-specs') as unknown as PartitionSpec[],
    defaultSpecId: r.num(o, 'default-spec-id'),
    lastPartitionId: r.num(o, 'last-partition-id'),
    sortOrders: r.arr(o, 'sort-orders', true) as unknown as SortOrder[],
    defaultSortOrderId: typeof o['default-sort-order-id'] === 'number' ? o['default-sort-order-id'] : 0,
    properties: r.obj(o['properties'] ?? {}, 'properties') as Record<string, string>,
    currentSnapshotId: currentSnapshotId === -1n ? null : currentSnapshotId,
    refs,
    snapshots,
    snapshotLog: r.arr(o, 'snapshot-log', true).map((e) => {
      const eo = r.obj(e, 'snapshot-log[]');
      return { timestampMs: r.num(eo, 'timestamp-ms'), snapshotId: r.long(eo, 'snapshot-id') ?? 0n };
    }),
    metadataLog: r.arr(o, 'metadata-log', true).map((e) => {
      const eo = r.obj(e, 'metadata-log[]');
      return { timestampMs: r.num(eo, 'timestamp-ms'), metadataFile: r.str(eo, 'metadata-file') };
    }),
    statistics: r.arr(o, 'statistics', true),
    partitionStatistics: r.arr(o, 'partition-statistics', true),
  };
}

type JsonObject = { [key: string]: JsonValue };

class Reader {
  constructor(readonly source: string) {}
  fail(key: string, expected: string, got: unknown): never {
    throw new IcebergSpecError(`${this.source}: "${key}" must be ${expected}, got ${JSON.stringify(String(got))}`);
  }
  obj(v: unknown, key: string): JsonObject {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : this.fail(key, 'an object', v);
  }
  arr(o: JsonObject, key: string, optional = false): JsonValue[] {
    const v = o[key];
    if (v === undefined && optional) return [];
    return Array.isArray(v) ? v : this.fail(key, 'an array', v);
  }
  num(o: JsonObject, key: string): number {
    const v = o[key];
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : this.fail(key, 'a number', v);
  }
  str(o: JsonObject, key: string): string {
    const v = o[key];
    return typeof v === 'string' ? v : this.fail(key, 'a string', v);
  }
  long(o: JsonObject, key: string, optional = false): bigint | null {
    const v = o[key];
    if ((v === undefined || v === null) && optional) return null;
    return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'bigint' ? v : this.fail(key, 'an integer', v);
  }
}
