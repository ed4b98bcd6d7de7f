import { systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import type { TableConfig } from '../../config/index.js';
import { ConfigError, WatermarkConflictError } from '../../errors.js';
import { parseQualifiedName } from '../../identifiers/index.js';
import type { Catalog, LoadedTable, TableIdentifier } from '../../iceberg/catalog/catalog.js';
import { SqlCatalog } from '../../iceberg/catalog/sql.js';
import type { StorageOptions } from '../../iceberg/io/for-location.js';
import type { DataFile } from '../../iceberg/spec/data-file.js';
import type { Snapshot } from '../../iceberg/spec/snapshot.js';
import { defaultSpec } from '../../iceberg/spec/table-metadata.js';
import { fastAppend } from '../../iceberg/transaction/fast-append.js';
import type { RetryPolicy as CommitRetryPolicy } from '../../iceberg/transaction/commit-loop.js';
import { ClickHouseParquetSource } from '../../iceberg/writer/clickhouse-parquet-source.js';
import type { ParquetExportMode, ParquetQueryClient, ParquetSourceTable } from '../../iceberg/writer/clickhouse-parquet-source.js';
import { silentLogger } from '../../logger.js';
import type { Logger } from '../../logger.js';
import { compareCursors, formatCursor } from '../../watermark/cursor.js';
import type { Cursor } from '../../watermark/cursor.js';
import type { PgQueryable } from '../../watermark/pg-client.js';
import type { Lease, RunSuccess, WatermarkState } from '../../watermark/store.js';
import type { JobResult, JobRunner, OffloadJob } from '../contract.js';
import { classifyEmbeddedFailure } from './classify.js';
import { coldtierSummary, coldtierTableProperties, committedWatermarkOf } from './summary.js';
import { prepareTargetForSource, targetIdentifier } from './target-table.js';

/** Where a run is; `onStage` is called as each is reached. */
export type EmbeddedStage = 'planned' | 'files_written' | 'committing' | 'committed';

export interface EmbeddedStageInfo {
  readonly job: OffloadJob;
  readonly target: TableIdentifier;
  /** Data files written so far (none at `planned`). */
  readonly dataFiles: readonly string[];
  /** Cursor of the last row written, once files are written. */
  readonly maxCursor: Cursor | null;
  /** The new snapshot's id, at `committed`. */
  readonly snapshotId: string | null;
}

/** A watermark store that can advance inside a transaction someone else opened (`PostgresWatermarkStore`). */
export interface TransactionalWatermarkStore {
  completeRun(lease: Lease, run: RunSuccess, options: { readonly client: PgQueryable }): Promise<WatermarkState>;
}

export interface EmbeddedIcebergRunnerOptions {
  /** ClickHouse, for `system.columns` and the Parquet export. */
  readonly clickhouse: ParquetQueryClient;
  /** The Iceberg catalog the targets live in; data files go to its FileIO. */
  readonly catalog: Catalog;
  /** Data files roll over at about this size. Default 128 MiB. */
  readonly targetFileSizeBytes?: number;
  /**
   * `server-side` when ClickHouse reaches the table's storage (chdb in
   * process on a local warehouse; a server with `storage.s3.clickhouse` on
   * S3): it then writes the data files itself. Default `stream`.
   */
  readonly exportMode?: ParquetExportMode;
  /** How ClickHouse reaches object storage, for the `server-side` export to `s3://` tables. */
  readonly storage?: StorageOptions;
  /**
   * Set when the catalog is a {@link SqlCatalog} in the watermark store's
   * database: the watermark then advances in the catalog's commit
   * transaction, so the pointer swap and the advance are one atomic step.
   * Jobs must carry their `lease` (the orchestrator passes it).
   */
  readonly sharedTransaction?: { readonly store: TransactionalWatermarkStore };
  /** Overrides the commit's conflict retry (Iceberg's `commit.retry.*`). */
  readonly commitRetry?: Partial<CommitRetryPolicy>;
  /** Observes each stage of a run; awaited. Errors it throws fail the run, except at `committed`, where they are logged. */
  readonly onStage?: (stage: EmbeddedStage, info: EmbeddedStageInfo) => void | Promise<void>;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;

/**
 * Offloads in process, without Spark: ClickHouse writes the window's rows as
 * Parquet straight into the Iceberg table's `data/`, then one fast append
 * commits them with the snapshot properties `coldtier.run-id`,
 * `coldtier.source-table` and `coldtier.watermark` (the last row's cursor).
 *
 * Exactly once: the commit is refused ({@link WatermarkConflictError}, not
 * retried) when the table already holds this source's rows past the window's
 * start, i.e. another writer offloaded the window since this run planned it;
 * {@link EmbeddedIcebergRunner.committedWatermark} lets the orchestrator
 * recover a commit whose watermark update was lost. Files of a run that does
 * not commit are never referenced (see `findOrphanDataFiles`).
 *
 * The target table is created on first use (schema from ClickHouse, spec
 * from `partitionBy`, default `day(timestampColumn)`; see
 * `TARGET_TABLE_PROPERTIES`) and evolved or refused on new columns as
 * `onSchemaChange` says. Abort stops the ClickHouse queries and rejects
 * before the commit; once the commit has landed the result is returned.
 */
export class EmbeddedIcebergRunner implements JobRunner {
  readonly #clickhouse: ParquetQueryClient;
  readonly #catalog: Catalog;
  readonly #source: ClickHouseParquetSource;
  readonly #shared: EmbeddedIcebergRunnerOptions['sharedTransaction'];
  readonly #commitRetry: Partial<CommitRetryPolicy>;
  readonly #onStage: EmbeddedIcebergRunnerOptions['onStage'];
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(options: EmbeddedIcebergRunnerOptions) {
    const size = options.targetFileSizeBytes ?? DEFAULT_TARGET_FILE_SIZE;
    if (!Number.isInteger(size) || size <= 0) {
      throw new ConfigError([{ path: 'targetFileSizeBytes', message: `expected a positive integer, got ${size}` }], { source: 'EmbeddedIcebergRunner options' });
    }
    if (options.sharedTransaction && !(options.catalog instanceof SqlCatalog)) {
      throw new ConfigError([{ path: 'sharedTransaction', message: 'needs a SqlCatalog in the watermark store database' }], {
        source: 'EmbeddedIcebergRunner options',
      });
    }
    this.#clickhouse = options.clickhouse;
    this.#catalog = options.catalog;
    this.#logger = options.logger ?? silentLogger;
    this.#source = new ClickHouseParquetSource(options.clickhouse, {
      targetFileSizeBytes: size,
      ...(options.exportMode ? { exportMode: options.exportMode } : {}),
      ...(options.storage ? { storage: options.storage } : {}),
      logger: this.#logger,
    });
    this.#shared = options.sharedTransaction;
    this.#commitRetry = options.commitRetry ?? {};
    this.#onStage = options.onStage;
    this.#clock = options.clock ?? systemClock;
  }

  async run(job: OffloadJob, signal: AbortSignal): Promise<JobResult> {
    const startedAt = this.#clock.now();
    const target = targetIdentifier(job.table);
    const info: EmbeddedStageInfo = { job, target, dataFiles: [], maxCursor: null, snapshotId: null };
    let committed: { snapshotId: string; rows: number; bytes: number; maxCursor: Cursor } | undefined;
    try {
      signal.throwIfAborted();
      const { table, schema, columns } = await this.#prepare(job.table, signal);
      await this.#onStage?.('planned', info);
      const written = await this.#source.writeWindow({
        table: sourceTable(job.table),
        schema,
        columns,
        partitionSpec: defaultSpec(table.metadata),
        window: job.window,
        tableLocation: table.metadata.location,
        io: this.#catalog.io,
        runId: `${job.runId}-${job.attempt}`,
        signal,
      });
      if (!written.maxCursor || written.dataFiles.length === 0) return this.#result(startedAt, null);
      const maxCursor = written.maxCursor;
      const files = { ...info, dataFiles: written.dataFiles.map((f) => f.filePath), maxCursor };
      await this.#onStage?.('files_written', files);
      signal.throwIfAborted();
      await this.#onStage?.('committing', files);
      const rows = Number(written.rowCount);
      const { snapshot } = await this.#commit(job, target, written.dataFiles, maxCursor, rows, startedAt);
      committed = { snapshotId: snapshot.snapshotId.toString(), rows, bytes: Number(written.bytes), maxCursor };
    } catch (error) {
      throw classifyEmbeddedFailure(job.table.name, error, signal);
    }
    // The rows are in the table now: whatever happens next, the result must reach the watermark.
    await Promise.resolve(this.#onStage?.('committed', { ...info, maxCursor: committed.maxCursor, snapshotId: committed.snapshotId })).catch(
      (error: unknown) => this.#logger.warn('onStage hook failed after the commit', { table: job.table.name, error: String(error) }),
    );
    return this.#result(startedAt, committed);
  }

  /**
   * The cursor of the last row of `table.source` its target holds, from the
   * `coldtier.watermark.<source>` table property or the newest
   * `coldtier.watermark` of that source on the target's `main` branch;
   * `null` when the target does not exist or holds none.
   */
  async committedWatermark(table: TableConfig, signal: AbortSignal): Promise<Cursor | null> {
    try {
      signal.throwIfAborted();
      const id = targetIdentifier(table);
      if (!(await this.#catalog.tableExists(id))) return null;
      const loaded = await this.#catalog.loadTable(id);
      return committedWatermarkOf(loaded.metadata, table.source) ?? null;
    } catch (error) {
      throw classifyEmbeddedFailure(table.name, error, signal);
    }
  }

  #prepare(table: TableConfig, signal: AbortSignal) {
    return prepareTargetForSource(this.#clickhouse, this.#catalog, table, this.#logger, signal);
  }

  #commit(job: OffloadJob, target: TableIdentifier, dataFiles: readonly DataFile[], maxCursor: Cursor, rows: number, startedAt: Date) {
    const shared = this.#shared;
    const lease = job.lease;
    if (shared && !lease) {
      throw new ConfigError([{ path: 'sharedTransaction', message: 'the job carries no lease to fence the watermark advance with' }]);
    }
    return fastAppend(this.#catalog, target, dataFiles, {
      snapshotProperties: coldtierSummary(job.runId, job.table.source, maxCursor),
      tableProperties: coldtierTableProperties(job.table.source, maxCursor),
      validate: (base) => assertNotOvertaken(job, base),
      ...(shared && lease
        ? {
            commitFor: (snapshot: Snapshot) => ({
              inTransaction: async (client) => {
                const success: RunSuccess = {
                  runId: job.runId,
                  window: job.window,
                  cursor: maxCursor,
                  rows,
                  durationSeconds: secondsSince(this.#clock, startedAt),
                  snapshotId: snapshot.snapshotId.toString(),
                };
                await shared.store.completeRun(lease, success, { client });
              },
            }),
          }
        : {}),
      retry: this.#commitRetry,
      clock: this.#clock,
      logger: this.#logger,
    });
  }

  #result(startedAt: Date, committed: { snapshotId: string; rows: number; bytes: number; maxCursor: Cursor } | null | undefined): JobResult {
    const finishedAt = this.#clock.now();
    return {
      rowsWritten: committed?.rows ?? 0,
      maxCursor: committed?.maxCursor ?? null,
      bytesWritten: committed?.bytes ?? 0,
      snapshotId: committed?.snapshotId ?? null,
      timings: { startedAt, finishedAt, durationSeconds: secondsSince(this.#clock, startedAt) },
    };
  }
}

/**
 * The fence: refuse to commit when the table already holds rows of this
 * source past the window's start. Another writer (a run that kept going
 * after losing its lease, or a second scheduler) offloaded them after this
 * run planned; committing would duplicate them. A table behind the window
 * (snapshots expired, the store moved on by hand) is not a conflict.
 */
function assertNotOvertaken(job: OffloadJob, base: LoadedTable): void {
  const committed = committedWatermarkOf(base.metadata, job.table.source);
  if (committed && compareCursors(committed, job.window.after) > 0) {
    throw new WatermarkConflictError(
      job.table.name,
      `${job.table.target} already holds ${job.table.source} up to ${formatCursor(committed)}, past ${formatCursor(job.window.after)} ` +
        `where run ${job.runId} planned from: another writer offloaded this window; commit refused`,
    );
  }
}

function sourceTable(table: TableConfig): ParquetSourceTable {
  return {
    name: table.name,
    source: parseQualifiedName(table.source),
    timestampColumn: table.timestampColumn,
    sequenceColumn: table.sequenceColumn,
    tieBreakerColumns: table.tieBreakerColumns,
    final: table.final,
  };
}

function secondsSince(clock: Clock, start: Date): number {
  return Math.max(0, (clock.now().getTime() - start.getTime()) / 1000);
}
