import { createWriteStream } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { OffloadError, messageOf } from '../../errors.js';
import { quoteClickHouse } from '../../identifiers/index.js';
import type { QualifiedName } from '../../identifiers/index.js';
import { silentLogger } from '../../logger.js';
import type { Logger } from '../../logger.js';
import { compareCursors } from '../../watermark/cursor.js';
import type { Cursor } from '../../watermark/cursor.js';
import { clickHouseParquetFile } from '../io/clickhouse-files.js';
import type { StorageOptions } from '../io/for-location.js';
import { LocalFileIO } from '../io/local.js';
import { fieldIdTail, parquetDataFile, rewriteWithFieldIds } from '../parquet/rewrite.js';
import type { RewrittenParquet } from '../parquet/rewrite.js';
import type { ClickHouseColumn } from '../schema-mapping/evolve.js';
import type { DataFile } from '../spec/data-file.js';
import { QUANTILE_STEPS, nextStep, planPartitions, stepRange } from './file-plan.js';
import type { FileRange } from './file-plan.js';
import { DiskFullError, ParquetWriteError, WindowPlan } from './window-plan.js';
import type { WindowPartition, WriteWindowRequest } from './window-plan.js';
import { QueryParams, atOrBeforeCursor } from './window-sql.js';

export { ParquetWriteError } from './window-plan.js';
export type { ParquetSourceTable, WriteWindowRequest } from './window-plan.js';

/** The part of the ClickHouse client the writer uses. */
export type ParquetQueryClient = Pick<ClickHouseClient, 'query' | 'exec' | 'command'>;

/**
 * How a file's bytes reach the table's storage. `stream`: ClickHouse sends
 * the Parquet over the connection and Coldtier writes it (any server).
 * `server-side`: ClickHouse writes the file itself (`INSERT INTO FUNCTION
 * s3(...)` or `file(...)`, see `clickHouseParquetFile`) beside its final
 * location, and Coldtier reads and replaces only the footer (see
 * `FileIO.stageObject`), so the rows never pass through this process. For
 * a ClickHouse that reaches the table's storage: the same filesystem (chdb
 * in process, whose client would otherwise hold each whole result in
 * memory) or the bucket, through `storage.s3.clickhouse`.
 */
export type ParquetExportMode = 'stream' | 'server-side';

export interface WrittenWindow {
  readonly dataFiles: readonly DataFile[];
  /** Cursor of the last row written, undefined when the window was empty. */
  readonly maxCursor: Cursor | undefined;
  readonly rowCount: bigint;
  readonly bytes: bigint;
}

export interface ClickHouseParquetSourceOptions {
  /** Files roll over at about this size. */
  readonly targetFileSizeBytes: number;
  /** Rows in the window's first file, before its size tells the bytes per row (default 1,000,000). */
  readonly initialRowsPerFile?: number;
  /** Default `stream`. */
  readonly exportMode?: ParquetExportMode;
  /** How ClickHouse reaches object storage, for the `server-side` export to `s3://` tables. */
  readonly storage?: StorageOptions;
  /** Extra or overriding `output_format_parquet_*` settings. */
  readonly parquetSettings?: ClickHouseSettings;
  readonly logger?: Logger;
}

/**
 * Settings that make ClickHouse's Parquet match Iceberg's expectations (see
 * the type mapping). No bloom filters (Iceberg writes none by default; they
 * took most of the encoding time and a quarter of the bytes), and row groups
 * of one read block, which keep ClickHouse's encoder memory small.
 */
export const PARQUET_OUTPUT_SETTINGS: ClickHouseSettings = {
  output_format_parquet_string_as_string: 1,
  output_format_parquet_fixed_string_as_fixed_byte_array: 1,
  output_format_parquet_datetime_as_uint32: 0,
  output_format_parquet_compression_method: 'zstd',
  output_format_parquet_write_page_index: 1,
  output_format_parquet_write_bloom_filter: 0,
  output_format_parquet_row_group_size: '65536',
};

const DEFAULT_INITIAL_ROWS_PER_FILE = 1_000_000;
const defaultIO = new LocalFileIO();

/**
 * Writes a table window as Iceberg data files by letting ClickHouse encode
 * the Parquet and rewriting only the footer to add field ids. One scan
 * plans the files: each partition's row count, last cursor and timestamp
 * quantiles. A partition too large for one file is cut at quantiles into
 * contiguous timestamp ranges (see `nextStep`), so rows are neither lost
 * nor repeated across files; every file stops at its partition's last
 * planned row, so the window's last cursor is known exactly. Rows inside a
 * file keep the source's order: the table declares no sort order, and
 * sorting would cost ClickHouse memory that grows with the file.
 */
export class ClickHouseParquetSource {
  private readonly logger: Logger;

  constructor(
    private readonly client: ParquetQueryClient,
    private readonly options: ClickHouseParquetSourceOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  async writeWindow(request: WriteWindowRequest): Promise<WrittenWindow> {
    const plan = new WindowPlan(request);
    const query = (sql: string, params: QueryParams) => this.rows(plan, sql, params);
    const partitions = await planPartitions(plan, query);
    const dataFiles: DataFile[] = [];
    let maxCursor: Cursor | undefined;
    let fileNumber = 0;
    let rowsPerFile = this.options.initialRowsPerFile ?? DEFAULT_INITIAL_ROWS_PER_FILE;
    // A file is published (uploaded, or copied inside the store) while the next one is written; one publish
    // in flight, so at most two files are staged at once and upload memory stays that of one upload.
    let publishing: Promise<void> = Promise.resolve();
    try {
      for (const partition of partitions) {
        for (let step = 0; step < QUANTILE_STEPS; ) {
          request.signal?.throwIfAborted();
          const next = nextStep(partition, step, rowsPerFile);
          const range = stepRange(partition, step, next);
          // Equal quantiles (many rows on one timestamp) leave nothing between them.
          const empty = range.afterMicros !== undefined && range.untilMicros !== undefined && range.untilMicros <= range.afterMicros;
          const file = empty ? undefined : await this.exportFile(plan, partition, range, fileNumber++);
          if (file) {
            // The previous file failed to publish: this one will never be, so it goes too.
            await publishing.catch(async (error: unknown) => {
              await file.discard().catch(() => undefined);
              throw error;
            });
            publishing = file.publish();
            // Handled here so a failure while the next file is written is not an unhandled rejection; awaited below.
            publishing.catch(() => undefined);
            dataFiles.push(file.dataFile);
          }
          rowsPerFile = this.rowsPerFile(dataFiles) ?? rowsPerFile;
          step = next;
        }
        if (!maxCursor || compareCursors(partition.last, maxCursor) > 0) maxCursor = partition.last;
      }
      await publishing;
    } catch (error) {
      // The run fails either way; let a publish in flight end before its staged file is left behind.
      await publishing.catch(() => undefined);
      throw error;
    }
    const rowCount = dataFiles.reduce((n, f) => n + f.recordCount, 0n);
    const bytes = dataFiles.reduce((n, f) => n + f.fileSizeInBytes, 0n);
    this.logger.info('window written', { table: request.table.name, files: dataFiles.length, rows: rowCount.toString(), bytes: bytes.toString() });
    return { dataFiles, maxCursor, rowCount, bytes };
  }

  /** Rows that fill a target-size file, at the bytes per row written so far. */
  private rowsPerFile(written: readonly DataFile[]): number | undefined {
    const rows = written.reduce((n, f) => n + Number(f.recordCount), 0);
    const bytes = written.reduce((n, f) => n + Number(f.fileSizeInBytes), 0);
    return rows > 0 ? Math.max(1, Math.floor(this.options.targetFileSizeBytes / (bytes / rows))) : undefined;
  }

  private async rows(plan: WindowPlan, sql: string, params: QueryParams): Promise<unknown[][]> {
    try {
      const result = await this.client.query({
        query: sql,
        format: 'JSONCompactEachRow',
        query_params: params.values,
        ...(plan.request.signal ? { abort_signal: plan.request.signal } : {}),
      });
      return await result.json<unknown[]>();
    } catch (cause) {
      throw this.wrap(plan, 'query failed', cause);
    }
  }

  private wrap(plan: WindowPlan, message: string, cause: unknown): unknown {
    if (plan.request.signal?.aborted || cause instanceof OffloadError) return cause;
    return new ParquetWriteError(plan.request.table.name, message, { cause, retryable: true });
  }

  /** Writes the partition's rows in `range`, to be published at its location; undefined when there are none. */
  private async exportFile(plan: WindowPlan, partition: WindowPartition, range: FileRange, n: number): Promise<ExportedFile | undefined> {
    const { request } = plan;
    const dir = [request.tableLocation.replace(/\/+$/, ''), 'data', ...(partition.path ? [partition.path] : [])].join('/');
    const location = `${dir}/${request.runId}-${String(n).padStart(5, '0')}.parquet`;
    const params = new QueryParams();
    const ts = quoteClickHouse(plan.cursor.timestamp);
    // Rows that arrive after planning and sort past the partition's last row wait for the next window.
    const where = [
      plan.filter(partition, params),
      atOrBeforeCursor(plan.cursor, partition.last, params),
      ...(range.afterMicros === undefined ? [] : [`${ts} > ${params.micros(range.afterMicros)}`]),
      ...(range.untilMicros === undefined ? [] : [`${ts} <= ${params.micros(range.untilMicros)}`]),
    ].join(' AND ');
    // The inner query filters on the source columns; the outer casts, so aliases never shadow them.
    const select = `SELECT ${plan.castColumns} FROM (SELECT ${plan.sourceColumns} FROM ${plan.from} WHERE ${where})`;
    const written = this.options.exportMode === 'server-side' ? await this.writeServerSide(plan, select, params, location) : await this.writeStreamed(plan, select, params, location);
    return written && { ...written, dataFile: parquetDataFile(location, partition.values, written.rewritten) };
  }

  /** Publishing a written file: on failure the staged file is removed and the error wrapped for the table. */
  private publisher(plan: WindowPlan, location: string, publish: () => Promise<void>, discard: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await publish();
      } catch (cause) {
        await discard().catch(() => undefined);
        throw this.wrap(plan, `publishing ${location} failed`, cause);
      }
    };
  }

  /** ClickHouse sends the Parquet; it is staged locally, its footer rewritten there, then published (uploaded). */
  private async writeStreamed(plan: WindowPlan, select: string, params: QueryParams, location: string): Promise<WrittenFile | undefined> {
    const { request } = plan;
    // The footer is rewritten on the staged local file, so no object is ever downloaded again to fix it.
    const staged = await (request.io ?? defaultIO).stage(location);
    try {
      const { stream } = await this.client.exec({ query: `${select} FORMAT Parquet`, query_params: params.values, ...this.queryOptions(plan) });
      await pipeline(stream, createWriteStream(staged.path), ...(request.signal ? [{ signal: request.signal }] : []));
      const rewritten = await rewriteWithFieldIds(staged.path, request.schema);
      if (rewritten.metrics.recordCount === 0n) {
        await staged.discard();
        return undefined;
      }
      return { rewritten, publish: this.publisher(plan, location, () => staged.publish(), () => staged.discard()), discard: () => staged.discard() };
    } catch (cause) {
      // Before the staged file is removed: it is what filled the disk.
      const full = await diskFull(request.table.name, dirname(staged.path), cause);
      await staged.discard();
      throw full ?? this.wrap(plan, `writing ${location} failed`, cause);
    }
  }

  /** ClickHouse writes the Parquet beside `location` itself; only the footer is read and replaced. */
  private async writeServerSide(plan: WindowPlan, select: string, params: QueryParams, location: string): Promise<WrittenFile | undefined> {
    const { request } = plan;
    const io = request.io ?? defaultIO;
    if (!io.stageObject) throw new OffloadError('config', `the server-side export cannot write ${location}: its storage takes no objects written by ClickHouse`, { table: request.table.name });
    const staged = await io.stageObject(location);
    try {
      const target = clickHouseParquetFile(staged.location, this.options.storage ?? {}, params);
      await this.client.command({ query: `INSERT INTO FUNCTION ${target} ${select}`, query_params: params.values, ...this.queryOptions(plan) });
      const { keepBytes, tail, rewritten } = await fieldIdTail(staged, request.schema);
      if (rewritten.metrics.recordCount === 0n) {
        await staged.discard();
        return undefined;
      }
      return { rewritten, publish: this.publisher(plan, location, () => staged.publishWithTail(keepBytes, tail), () => staged.discard()), discard: () => staged.discard() };
    } catch (cause) {
      // A local file ClickHouse wrote may have filled the disk; on object storage statfs fails and this finds nothing.
      const full = await diskFull(request.table.name, dirname(staged.location), cause);
      // The failure that matters is the write's; an object left behind is an orphan that cleanup removes.
      await staged.discard().catch(() => undefined);
      throw full ?? this.wrap(plan, `writing ${location} failed`, cause);
    }
  }

  private queryOptions(plan: WindowPlan) {
    const signal = plan.request.signal;
    return {
      clickhouse_settings: { ...PARQUET_OUTPUT_SETTINGS, ...this.options.parquetSettings },
      ...(signal ? { abort_signal: signal } : {}),
    };
  }
}

/** A data file written and staged, with its footer's field ids and metrics, not yet at its location. */
interface WrittenFile {
  readonly rewritten: RewrittenParquet;
  readonly publish: () => Promise<void>;
  /** Removes the staged file unpublished. */
  readonly discard: () => Promise<void>;
}

interface ExportedFile extends WrittenFile {
  readonly dataFile: DataFile;
}

/** Free bytes below which a failed write is taken for a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * The failure as `disk full` when it is one: an `ENOSPC` in its causes, or a
 * device left (nearly) without space. The second covers ClickHouse writing
 * the file itself: on a full disk it may end the file early without an
 * error, and the failure seen is only a truncated Parquet file.
 */
async function diskFull(table: string, dir: string, cause: unknown): Promise<DiskFullError | undefined> {
  let e: unknown = cause;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 10; depth++, e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'ENOSPC') return new DiskFullError(table, `writing under ${dir}: ${messageOf(e)}`, { cause });
  }
  const free = await statfs(dir).then((s) => s.bavail * s.bsize, () => undefined);
  if (free === undefined || free >= NEARLY_FULL_BYTES) return undefined;
  // The truncated file's own error (missing PAR1 magic) stays in `cause`: it would send the operator the wrong way.
  return new DiskFullError(table, `${free} bytes left on the device of ${dir}; the data file written there ended early`, { cause });
}

/** The columns of a ClickHouse table in definition order, as the mapping needs them. */
export async function describeClickHouseColumns(client: ParquetQueryClient, source: QualifiedName, signal?: AbortSignal): Promise<ClickHouseColumn[]> {
  const result = await client.query({
    query: 'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
    format: 'JSONEachRow',
    query_params: { db: source.namespace, table: source.name },
    ...(signal ? { abort_signal: signal } : {}),
  });
  return result.json<ClickHouseColumn>();
}
