import { IcebergSpecError } from '../../spec/errors.js';
import { stringifyJson, type JsonValue } from '../../spec/json.js';
import { snapshotToJson, tableMetadataFromJson } from '../../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../../spec/table-update.js';
import type { LoadedTable, TableIdentifier } from '../catalog.js';

/**
 * The commit's updates as the REST spec's JSON. A `remove-snapshots` goes out
 * as one update per snapshot id, as Iceberg Java's own client sends it: the
 * spec allows a list, but Java's `MetadataUpdateParser` (the reference REST
 * server) rejects more than one id per update.
 */
export function updatesToJson(updates: readonly TableUpdate[]): Record<string, unknown>[] {
  return updates.flatMap((u) => (u.action === 'remove-snapshots' ? u.snapshotIds.map((id) => updateToJson({ ...u, snapshotIds: [id] })) : [updateToJson(u)]));
}

/** A `TableUpdate` as the REST spec's JSON (kebab-case keys, ids as bigint for exact printing). */
function updateToJson(u: TableUpdate): Record<string, unknown> {
  switch (u.action) {
    case 'add-schema':
      return { action: u.action, schema: u.schema };
    case 'set-current-schema':
      return { action: u.action, 'schema-id': u.schemaId };
    case 'add-spec':
      return { action: u.action, spec: u.spec };
    case 'set-default-spec':
      return { action: u.action, 'spec-id': u.specId };
    case 'add-snapshot':
      return { action: u.action, snapshot: snapshotToJson(u.snapshot) };
    case 'set-snapshot-ref':
      return { action: u.action, 'ref-name': u.refName, 'snapshot-id': u.snapshotId, type: u.type };
    case 'remove-snapshots':
      return { action: u.action, 'snapshot-ids': u.snapshotIds };
    case 'remove-snapshot-ref':
      return { action: u.action, 'ref-name': u.refName };
    case 'set-properties':
      return { action: u.action, updates: u.updates };
    case 'remove-properties':
      return { action: u.action, removals: u.removals };
  }
}

/** A `TableRequirement` as the REST spec's JSON; `assert-ref-snapshot-id` keeps an explicit null for "no snapshot yet". */
export function requirementToJson(r: TableRequirement): Record<string, unknown> {
  switch (r.type) {
    case 'assert-table-uuid':
      return { type: r.type, uuid: r.uuid };
    case 'assert-ref-snapshot-id':
      return { type: r.type, ref: r.ref, 'snapshot-id': r.snapshotId };
    case 'assert-current-schema-id':
      return { type: r.type, 'current-schema-id': r.currentSchemaId };
    case 'assert-last-assigned-field-id':
      return { type: r.type, 'last-assigned-field-id': r.lastAssignedFieldId };
    case 'assert-default-spec-id':
      return { type: r.type, 'default-spec-id': r.defaultSpecId };
    case 'assert-last-assigned-partition-id':
      return { type: r.type, 'last-assigned-partition-id': r.lastAssignedPartitionId };
  }
}

/** A `LoadTableResult` / `CommitTableResponse` as a loaded table. */
export function loadedTableFromJson(id: TableIdentifier, body: JsonValue | undefined, what: string): LoadedTable {
  const o = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  const location = o?.['metadata-location'];
  if (!o || typeof location !== 'string' || typeof o['metadata'] !== 'object' || o['metadata'] === null) {
    throw new IcebergSpecError(`${what}: the REST catalog's answer has no metadata-location and metadata`);
  }
  // Through text so the one metadata reader (and its errors naming the key) is used; bigints survive the round trip.
  return { identifier: id, metadataLocation: location, metadata: tableMetadataFromJson(stringifyJson(o['metadata']), `${what} (${location})`) };
}

/** Path segment of a namespace: levels joined by the unit separator, percent-encoded (REST spec). */
export function namespacePath(namespace: readonly string[]): string {
  return encodeURIComponent(namespace.join('\u001f'));
}
