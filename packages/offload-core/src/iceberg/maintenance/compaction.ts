import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { OffloadError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { CommitStateUnknownError, formatIdentifier, type Catalog, type TableIdentifier } from '../catalog/catalog.js';
import { clickHouseParquetFile } from '../io/clickhouse-files.js';
import type { FileIO } from '../io/file-io.js';
import type { StorageOptions } from '../io/for-location.js';
import { LocalFileIO } from '../io/local.js';
import { fieldIdTail, parquetDataFile } from '../parquet/rewrite.js';
import type { DataFile } from '../spec/data-file.js';
import { bindPartitionSpec, partitionPath } from '../spec/partition.js';
import { partitionKey } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, type TableMetadata } from '../spec/table-metadata.js';
import type { IcebergSchema } from '../spec/types.js';
import { deleteAll, type CommitLoopOptions } from '../transaction/commit-loop.js';
import { rewriteFiles } from '../transaction/rewrite-files.js';
import { listLiveDataFiles } from '../transaction/table-scan.js';
import { PARQUET_OUTPUT_SETTINGS, type ParquetQueryClient } from '../writer/clickhouse-parquet-source.js';
import { QueryParams } from '../writer/window-sql.js';
import { compactionPolicyOf, planCompaction, type CompactionGroup, type CompactionPolicy } from './compaction-plan.js';

/** Turns several data files of one partition into one, holding the same rows. */
export interface DataFileRewriter {
  /** Writes `output` from the rows of `inputs`, with the field ids of `schema`; returns its descriptor (partition of the inputs). */
  rewrite(inputs: readonly DataFile[], output: string, schema: IcebergSchema, signal?: AbortSignal): Promise<DataFile>;
}

/** Iceberg's `key=value` directories are not columns of the file; ClickHouse would add them as Hive partition columns. */
const READ_SETTINGS = { use_hive_partitioning: 0 } as const;

export interface ClickHouseFileRewriterOptions {
  /** The table's storage (the catalog's `io`); default the local filesystem. */
  readonly io?: FileIO;
  /** How ClickHouse reaches the storage (`storage.s3.clickhouse` on S3); see `clickHouseParquetFile`. */
  readonly storage?: StorageOptions;
}

/**
 * Has ClickHouse read the input Parquet files and write the output itself
 * (`INSERT INTO FUNCTION file()/s3() SELECT ... FROM file()/s3()`, the
 * table functions `clickHouseParquetFile` gives): no row passes through this
 * process. The inputs hold the same columns (the plan never mixes files
 * written before and after a column was added, which would turn the old
 * files' NULLs into ClickHouse defaults), so the first one's structure reads
 * them all. The output is staged beside its location (`FileIO.stageObject`)
 * and published with its footer given field ids, reading only the footer.
 */
export class ClickHouseFileRewriter implements DataFileRewriter {
  readonly #io: FileIO;
  readonly #storage: StorageOptions;

  constructor(
    private readonly client: ParquetQueryClient,
    options: ClickHouseFileRewriterOptions = {},
  ) {
    this.#io = options.io ?? new LocalFileIO();
    this.#storage = options.storage ?? {};
  }

  async rewrite(inputs: readonly DataFile[], output: string, schema: IcebergSchema, signal?: AbortSignal): Promise<DataFile> {
    if (!this.#io.stageObject) throw new OffloadError('config', `compaction cannot write ${output}: its storage takes no objects written by ClickHouse`);
    const aborting = signal ? { abort_signal: signal } : {};
    const describe = new QueryParams();
    const described = await this.client.query({
      query: `DESCRIBE TABLE ${clickHouseParquetFile(inputs[0]!.filePath, this.#storage, describe)}`,
      query_params: describe.values,
      format: 'JSONEachRow',
      clickhouse_settings: READ_SETTINGS,
      ...aborting,
    });
    const structure = (await described.json<{ name: string; type: string }>()).map((c) => `\`${c.name.replace(/`/g, '``')}\` ${c.type}`).join(', ');
    const staged = await this.#io.stageObject(output);
    try {
      const params = new QueryParams();
      const target = clickHouseParquetFile(staged.location, this.#storage, params);
      const selects = inputs.map((f) => `SELECT * FROM ${clickHouseParquetFile(f.filePath, this.#storage, params, { structure })}`);
      await this.client.command({
        query: `INSERT INTO FUNCTION ${target} ${selects.join(' UNION ALL ')}`,
        query_params: params.values,
        clickhouse_settings: { ...PARQUET_OUTPUT_SETTINGS, ...READ_SETTINGS },
        ...aborting,
      });
      const { keepBytes, tail, rewritten } = await fieldIdTail(staged, schema);
      await staged.publishWithTail(keepBytes, tail);
      return parquetDataFile(output, inputs[0]!.partition, rewritten);
    } catch (error) {
      // The rewrite's failure is the one to report; a staged object left behind is an orphan that cleanup removes.
      await staged.discard().catch(() => undefined);
      throw error;
    }
  }
}

export interface CompactionOptions extends CommitLoopOptions {
  readonly policy?: Partial<CompactionPolicy>;
  /** Plan and report; write and commit nothing. */
  readonly dryRun?: boolean;
  /** Called after each group is rewritten. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** What a compaction did (or would do, in a dry run). */
export interface CompactionReport {
  readonly groups: number;
  readonly partitions: number;
  readonly dataFilesBefore: number;
  readonly dataFilesAfter: number;
  readonly filesRewritten: number;
  readonly filesAdded: number;
  readonly bytesRewritten: number;
  /** The `replace` snapshot, when one was committed. */
  readonly snapshotId: bigint | null;
  readonly dryRun: boolean;
}

/** Summary properties a `replace` carries from its parent, so the snapshot summaries keep Coldtier's watermark. */
const CARRIED_PREFIX = 'coldtier.';

/**
 * Compacts the small files of the table's quiet partitions (see
 * {@link planCompaction}): each group is rewritten into one file by the
 * `rewriter`, then one `replace` snapshot validated from the snapshot the
 * plan read commits them all. Appends landing meanwhile are retried around;
 * if the commit fails for sure the new files are deleted.
 */
export async function compactTable(
  catalog: Catalog,
  identifier: TableIdentifier,
  rewriter: DataFileRewriter,
  options: CompactionOptions = {},
): Promise<CompactionReport> {
  const logger = options.logger ?? silentLogger;
  const { metadata } = await catalog.loadTable(identifier);
  const start = currentSnapshot(metadata);
  const live = await listLiveDataFiles(catalog.io, metadata);
  const policy = compactionPolicyOf(metadata.properties, options.policy);
  const groups = planCompaction(metadata, live, policy, (options.clock ?? systemClock).now().getTime());
  const rewritten = groups.flatMap((g) => g.files);
  const base = {
    groups: groups.length,
    partitions: new Set(groups.map((g) => `${g.specId}/${partitionKey(g.partition)}`)).size,
    dataFilesBefore: live.length,
    filesRewritten: rewritten.length,
    bytesRewritten: rewritten.reduce((n, f) => n + Number(f.fileSizeInBytes), 0),
  };
  if (!start || groups.length === 0 || options.dryRun) {
    return { ...base, dataFilesAfter: live.length - rewritten.length + groups.length, filesAdded: groups.length, snapshotId: null, dryRun: options.dryRun ?? false };
  }

  const added: DataFile[] = [];
  try {
    for (const [i, group] of groups.entries()) {
      options.signal?.throwIfAborted();
      added.push(await rewriter.rewrite(group.files, outputLocation(metadata, group), currentSchema(metadata), options.signal));
      options.onProgress?.(i + 1, groups.length);
    }
    checkSameRows(groups, added, formatIdentifier(identifier));
    const specs = [...new Set(groups.map((g) => g.specId))];
    let snapshotId: bigint | null = null;
    for (const specId of specs) {
      const result = await rewriteFiles(
        catalog,
        identifier,
        groups.filter((g) => g.specId === specId).flatMap((g) => g.files),
        added.filter((_, i) => groups[i]!.specId === specId),
        {
          ...options,
          startSnapshotId: start.snapshotId,
          specId,
          snapshotProperties: (parent) => Object.fromEntries(Object.entries(parent).filter(([k]) => k.startsWith(CARRIED_PREFIX))),
        },
      );
      snapshotId = result.snapshot.snapshotId;
    }
    logger.info('iceberg compaction committed', { table: formatIdentifier(identifier), groups: groups.length, filesRewritten: rewritten.length });
    return { ...base, dataFilesAfter: live.length - rewritten.length + added.length, filesAdded: added.length, snapshotId, dryRun: false };
  } catch (error) {
    // An unknown outcome may have published the new files; a known failure left them unreferenced.
    if (!(error instanceof CommitStateUnknownError)) await deleteAll(catalog.io, added.map((f) => f.filePath));
    throw error;
  }
}

function outputLocation(metadata: TableMetadata, group: CompactionGroup): string {
  const spec = metadata.partitionSpecs.find((s) => s['spec-id'] === group.specId);
  const path = spec && spec.fields.length > 0 ? `${partitionPath(bindPartitionSpec(spec, currentSchema(metadata)), group.partition)}/` : '';
  return `${metadata.location}/data/${path}compact-${randomUUID()}.parquet`;
}

/** A rewrite that lost or gained rows must never commit. */
function checkSameRows(groups: readonly CompactionGroup[], added: readonly DataFile[], table: string): void {
  groups.forEach((g, i) => {
    const before = g.files.reduce((n, f) => n + f.recordCount, 0n);
    const after = added[i]?.recordCount ?? -1n;
    if (before !== after) {
      throw new OffloadError('internal', `compaction of ${table}: ${g.files.length} files with ${before} rows were rewritten into ${after} rows; nothing committed`, {
        table,
      });
    }
  });
}
