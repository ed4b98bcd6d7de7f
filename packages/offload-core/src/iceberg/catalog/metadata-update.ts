import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { newTableMetadata, type TableMetadata } from '../spec/table-metadata.js';
import { applyUpdates, failedRequirement, type TableRequirement, type TableUpdate } from '../spec/table-update.js';
import { CommitConflictError, formatIdentifier, type CreateTableRequest, type LoadedTable } from './catalog.js';

const PREVIOUS_VERSIONS_MAX = 'write.metadata.previous-versions-max';

/**
 * The metadata a commit produces from the latest table state: requirements
 * checked, updates applied and the replaced file appended to the metadata
 * log (bounded like Iceberg's `write.metadata.previous-versions-max`).
 */
export function nextMetadata(
  current: LoadedTable,
  requirements: readonly TableRequirement[],
  updates: readonly TableUpdate[],
  clock: Clock,
): TableMetadata {
  const failed = failedRequirement(current.metadata, requirements);
  if (failed !== undefined) throw new CommitConflictError(formatIdentifier(current.identifier), failed);
  const nowMs = clock.now().getTime();
  const applied = applyUpdates(current.metadata, updates, nowMs);
  const max = Number(applied.properties[PREVIOUS_VERSIONS_MAX] ?? 100);
  const metadataLog = [
    ...applied.metadataLog,
    { timestampMs: current.metadata.lastUpdatedMs, metadataFile: current.metadataLocation },
  ].slice(-Math.max(1, max));
  return { ...applied, metadataLog };
}

/** Metadata for a table being created. */
export function initialMetadata(location: string, request: CreateTableRequest, clock: Clock): TableMetadata {
  return newTableMetadata({
    tableUuid: randomUUID(),
    location,
    schema: request.schema,
    spec: request.spec,
    properties: request.properties ?? {},
    nowMs: clock.now().getTime(),
  });
}
