import { z } from 'zod';
import { JobFailedError } from '../../errors.js';
import { compareCursors, cursorFromJson, formatCursor, formatMicros } from '../../watermark/cursor.js';
import type { Cursor } from '../../watermark/cursor.js';
import type { OffloadJob } from '../contract.js';

/** Prefix of the machine-readable line a job prints on stdout when it has committed. */
export const RESULT_PREFIX = 'COLDTIER_RESULT ';
const LEGACY_ROWS = /^Rows offloaded:\s*([\d,_]+)\s*$/;
const LEGACY_CURSOR = 'Max cursor:';

const cursorJsonSchema = z.object({
  timestamp: z.string(),
  sequence: z.string().regex(/^-?\d+$/, { error: 'expected a decimal integer string' }),
  tieBreakers: z.array(z.string()).default([]),
});

/**
 * The `COLDTIER_RESULT {json}` payload. Unknown fields are ignored so a newer
 * job can report more than this runner reads.
 */
const resultLineSchema = z.object({
  runId: z.string().optional(),
  rows: z.number().int().min(0),
  maxCursor: cursorJsonSchema.nullable(),
  bytes: z.number().int().min(0).default(0),
  snapshotId: z.union([z.string().regex(/^-?\d+$/), z.null()]).default(null),
});

/** What a job reported, before it is checked against the job's window. */
export interface ReportedResult {
  /** The run id the job echoed, when it did; a mismatch means the output is not this run's. */
  readonly runId: string | null;
  readonly rows: number;
  readonly maxCursor: Cursor | null;
  readonly bytes: number;
  readonly snapshotId: string | null;
}

/**
 * Watches stdout lines for the result. `COLDTIER_RESULT` wins; otherwise the
 * reference's `Rows offloaded: N`, whose cursor must come from a
 * `Max cursor: {json}` line: a row count alone cannot advance a watermark
 * safely (guessing the cursor loses or repeats rows), so it is rejected.
 */
export class ResultCollector {
  #resultLine: string | undefined;
  #legacyRows: string | undefined;
  #legacyCursor: string | undefined;

  /** Returns true when the line was part of the result (so it need not be logged twice). */
  accept(line: string): boolean {
    if (line.startsWith(RESULT_PREFIX)) {
      this.#resultLine = line.slice(RESULT_PREFIX.length);
      return true;
    }
    const rows = LEGACY_ROWS.exec(line);
    if (rows) {
      this.#legacyRows = rows[1]!;
      return false;
    }
    if (line.startsWith(LEGACY_CURSOR)) this.#legacyCursor = line.slice(LEGACY_CURSOR.length).trim();
    return false;
  }

  /**
   * Parses what was reported: `null` when nothing was (the exit is then
   * classified instead); throws `JobFailedError('process_error')` when unusable.
   */
  parse(table: string): ReportedResult | null {
    if (this.#resultLine !== undefined) return parseResultLine(table, this.#resultLine);
    if (this.#legacyRows === undefined) return null;
    const rows = Number(this.#legacyRows.replace(/[,_]/g, ''));
    if (this.#legacyCursor === undefined) {
      if (rows === 0) return { runId: null, rows, maxCursor: null, bytes: 0, snapshotId: null };
      throw invalid(
        table,
        `the job reported "Rows offloaded: ${this.#legacyRows}" but not its cursor (no COLDTIER_RESULT or "Max cursor:" line); ` +
          'the watermark cannot advance safely without it',
      );
    }
    const maxCursor = parseJson(table, this.#legacyCursor, cursorJsonSchema, '"Max cursor:" line');
    return { runId: null, rows, maxCursor: toCursor(table, maxCursor), bytes: 0, snapshotId: null };
  }
}

function parseResultLine(table: string, text: string): ReportedResult {
  const parsed = parseJson(table, text, resultLineSchema, 'COLDTIER_RESULT line');
  return {
    runId: parsed.runId ?? null,
    rows: parsed.rows,
    maxCursor: parsed.maxCursor ? toCursor(table, parsed.maxCursor) : null,
    bytes: parsed.bytes,
    snapshotId: parsed.snapshotId,
  };
}

function parseJson<T>(table: string, text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(table, `the ${what} is not JSON: ${text.slice(0, 200)}`, error);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw invalid(table, `the ${what} is malformed (${issues})`, parsed.error);
  }
  return parsed.data;
}

function toCursor(table: string, json: z.output<typeof cursorJsonSchema>): Cursor {
  try {
    return cursorFromJson(json);
  } catch (error) {
    throw invalid(table, `the reported cursor is malformed: ${JSON.stringify(json)}`, error);
  }
}

/**
 * Rejects a report the watermark must not follow: another run's, rows without a cursor, a
 * cursor without rows, a cursor of the wrong shape, or one outside the
 * window the job was given (which would skip or repeat rows next cycle).
 */
export function checkReportedResult(job: OffloadJob, result: ReportedResult): void {
  const { table, window } = job;
  if (result.runId !== null && result.runId !== job.runId) {
    throw invalid(table.name, `the job reported run id ${JSON.stringify(result.runId)}, expected ${JSON.stringify(job.runId)}`);
  }
  const cursor = result.maxCursor;
  if (cursor === null) {
    if (result.rows > 0) throw invalid(table.name, `the job reported ${result.rows} rows but no max cursor`);
    return;
  }
  if (result.rows === 0) throw invalid(table.name, `the job reported 0 rows but a max cursor ${formatCursor(cursor)}`);
  if (cursor.tieBreakers.length !== table.tieBreakerColumns.length) {
    throw invalid(
      table.name,
      `the reported cursor ${formatCursor(cursor)} has ${cursor.tieBreakers.length} tie-breakers, expected ${table.tieBreakerColumns.length}`,
    );
  }
  if (compareCursors(cursor, window.after) <= 0 || cursor.timestampMicros > window.untilMicros) {
    throw invalid(
      table.name,
      `the reported cursor ${formatCursor(cursor)} is outside the window (${formatCursor(window.after)}, ${formatMicros(window.untilMicros)}]`,
    );
  }
}

/** Not retryable: the job may have committed, so running it again could write the window twice. */
function invalid(table: string, reason: string, cause?: unknown): JobFailedError {
  return new JobFailedError(table, 'process_error', `Offload failed: ${table}: ${reason}`, { retryable: false, cause });
}
