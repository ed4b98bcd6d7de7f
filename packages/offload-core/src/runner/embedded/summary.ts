import { mainAncestry } from '../../iceberg/transaction/table-scan.js';
import type { TableMetadata } from '../../iceberg/spec/table-metadata.js';
import { compareCursors, cursorFromJson, cursorToJson } from '../../watermark/cursor.js';
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

/**
 * Table property prefix: `coldtier.watermark.<source>` holds the same cursor
 * as the snapshot summary, set in the same commit. Table properties survive
 * snapshot expiry and rewrites by any engine (Spark's `expire_snapshots`
 * with `retain_last 1` can drop every Coldtier snapshot); summaries do not.
 */
export const WATERMARK_PROPERTY_PREFIX = 'coldtier.watermark.';

/** The table property holding the committed watermark of `source`. */
export function watermarkPropertyKey(source: string): string {
  return `${WATERMARK_PROPERTY_PREFIX}${source}`;
}

/** The table properties a commit of `source`'s rows up to `cursor` sets alongside its snapshot. */
export function coldtierTableProperties(source: string, cursor: Cursor): Record<string, string> {
  return { [watermarkPropertyKey(source)]: JSON.stringify(cursorToJson(cursor)) };
}

/** The `coldtier.*` properties of a snapshot that commits a run's rows up to `cursor`. */
export function coldtierSummary(runId: string, source: string, cursor: Cursor): Record<string, string> {
  return {
    [SUMMARY_RUN_ID]: runId,
    [SUMMARY_SOURCE_TABLE]: source,
    [SUMMARY_WATERMARK]: JSON.stringify(cursorToJson(cursor)),
  };
}

/**
 * How far `source` is committed in the table: the later of the
 * `coldtier.watermark.<source>` table property and the newest
 * `coldtier.watermark` of that source along `main` (snapshots of other
 * sources sharing the table are skipped); `undefined` when neither exists.
 * The summaries are the fallback for tables written before the property
 * existed, or by the Spark job, which cannot set it in its commit.
 */
export function committedWatermarkOf(metadata: TableMetadata, source: string): Cursor | undefined {
  const property = metadata.properties[watermarkPropertyKey(source)];
  const fromProperty = property === undefined ? undefined : parseCursor(property);
  const fromSummary = summaryWatermarkOf(metadata, source);
  if (!fromProperty || !fromSummary) return fromProperty ?? fromSummary;
  return compareCursors(fromProperty, fromSummary) >= 0 ? fromProperty : fromSummary;
}

function summaryWatermarkOf(metadata: TableMetadata, source: string): Cursor | undefined {
  for (const snapshot of mainAncestry(metadata)) {
    const value = snapshot.summary[SUMMARY_WATERMARK];
    if (value === undefined || snapshot.summary[SUMMARY_SOURCE_TABLE] !== source) continue;
    return parseCursor(value);
  }
  return undefined;
}

function parseCursor(value: string): Cursor {
  return cursorFromJson(JSON.parse(value) as CursorJson);
}
