import { mainAncestry } from '../../iceberg/transaction/table-scan.js';
import type { TableMetadata } from '../../iceberg/spec/table-metadata.js';
import { cursorFromJson, cursorToJson } from '../../watermark/cursor.js';
import type { Cursor, CursorJson } from '../../watermark/cursor.js';

/** Snapshot summary property: the run that committed the snapshot. */
export const SUMMARY_RUN_ID = 'coldtier.run-id';
/** Snapshot summary property: the ClickHouse `database.table` the rows came from. */
export const SUMMARY_SOURCE_TABLE = 'coldtier.source-table';
/**
 * Snapshot summary property: the cursor of the last row committed, as
 * `cursorToJson` JSON. The table's own record of how far each source has
 * been offloaded; recovery and fencing read it.
 */
export const SUMMARY_WATERMARK = 'coldtier.watermark';

/** The `coldtier.*` properties of a snapshot that commits a run's rows up to `cursor`. */
export function coldtierSummary(runId: string, source: string, cursor: Cursor): Record<string, string> {
  return {
    [SUMMARY_RUN_ID]: runId,
    [SUMMARY_SOURCE_TABLE]: source,
    [SUMMARY_WATERMARK]: JSON.stringify(cursorToJson(cursor)),
  };
}

/**
 * The newest `coldtier.watermark` that `source` committed along the table's
 * `main` branch, or `undefined` if no snapshot carries one. Snapshots of
 * other sources sharing the table are skipped.
 */
export function committedWatermarkOf(metadata: TableMetadata, source: string): Cursor | undefined {
  for (const snapshot of mainAncestry(metadata)) {
    const value = snapshot.summary[SUMMARY_WATERMARK];
    if (value === undefined || snapshot.summary[SUMMARY_SOURCE_TABLE] !== source) continue;
    return cursorFromJson(JSON.parse(value) as CursorJson);
  }
  return undefined;
}
