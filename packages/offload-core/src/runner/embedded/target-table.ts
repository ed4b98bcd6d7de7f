import type { PartitionField as ConfiguredPartition, TableConfig } from '../../config/index.js';
import { OffloadError, UnknownTableError } from '../../errors.js';
import { parseQualifiedName } from '../../identifiers/index.js';
import { CommitConflictError, TableAlreadyExistsError, formatIdentifier } from '../../iceberg/catalog/catalog.js';
import type { Catalog, LoadedTable, TableIdentifier } from '../../iceberg/catalog/catalog.js';
import { evolveSchema } from '../../iceberg/schema-mapping/evolve.js';
import type { ClickHouseColumn, SchemaChange } from '../../iceberg/schema-mapping/evolve.js';
import { FIRST_PARTITION_FIELD_ID } from '../../iceberg/spec/partition.js';
import type { PartitionField, PartitionSpec } from '../../iceberg/spec/partition.js';
import { findFieldByName } from '../../iceberg/spec/schema.js';
import { currentSchema } from '../../iceberg/spec/table-metadata.js';
import type { IcebergSchema } from '../../iceberg/spec/types.js';
import { describeClickHouseColumns } from '../../iceberg/writer/clickhouse-parquet-source.js';
import type { ParquetQueryClient } from '../../iceberg/writer/clickhouse-parquet-source.js';
import type { Logger } from '../../logger.js';

/**
 * Properties of every table Coldtier creates: the reference's Parquet + zstd
 * level 3, full column metrics and 7-day snapshot retention.
 */
export const TARGET_TABLE_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'zstd',
  'write.parquet.compression-level': '3',
  'write.metadata.metrics.default': 'full',
  'history.expire.max-snapshot-age-ms': String(7 * 24 * 60 * 60 * 1000),
});

/** Schema evolutions retried against a concurrent writer before giving up. */
const SCHEMA_COMMIT_ATTEMPTS = 5;

/** The Iceberg identifier of a table's `target` (`namespace.table`). */
export function targetIdentifier(table: TableConfig): TableIdentifier {
  const name = parseQualifiedName(table.target);
  return { namespace: [name.namespace], name: name.name };
}

/**
 * The offloaded columns, in source order. Unknown source table and
 * configured columns the source lacks are errors, so nothing is written and
 * the watermark stays.
 */
export function selectColumns(table: TableConfig, described: readonly ClickHouseColumn[]): ClickHouseColumn[] {
  if (described.length === 0) throw new UnknownTableError(table.source, 'no such table in ClickHouse');
  if (table.columns === 'all') return [...described];
  const known = new Set(described.map((c) => c.name));
  const missing = table.columns.filter((c) => !known.has(c));
  if (missing.length > 0) {
    throw new OffloadError('schema', `${table.name}: configured columns missing in ${table.source}: ${missing.join(', ')}`, { table: table.name });
  }
  const wanted = new Set(table.columns);
  return described.filter((c) => wanted.has(c.name));
}

/** The table's partition spec: `partitionBy`, or `day(timestampColumn)` when none is configured. */
export function partitionSpecFor(table: TableConfig, schema: IcebergSchema): PartitionSpec {
  const configured: readonly ConfiguredPartition[] =
    table.partitionBy.length > 0 ? table.partitionBy : [{ column: table.timestampColumn, transform: 'day' }];
  const fields = configured.map((p, i): PartitionField => {
    const source = findFieldByName(schema, p.column);
    if (!source) {
      throw new OffloadError('config', `${table.name}: partition column ${p.column} is not an offloaded column`, { table: table.name });
    }
    return { 'source-id': source.id, 'field-id': FIRST_PARTITION_FIELD_ID + i, name: partitionFieldName(p), transform: p.transform };
  });
  return { 'spec-id': 0, fields };
}

/** Iceberg's own naming: `ts_day`, `id_bucket`, `name_trunc`, the bare column for identity. */
function partitionFieldName(p: ConfiguredPartition): string {
  if (p.transform === 'identity') return p.column;
  const kind = p.transform.replace(/\[.*$/, '');
  return `${p.column}_${kind === 'truncate' ? 'trunc' : kind}`;
}

export interface PreparedTarget {
  readonly table: LoadedTable;
  /** The schema the run's files are written with. */
  readonly schema: IcebergSchema;
  /** Schema changes this run committed (empty when the schema already matched). */
  readonly changes: readonly SchemaChange[];
}

/** The target table as the catalog holds it now, undefined when it does not exist yet. */
async function loadTargetIfExists(catalog: Catalog, table: TableConfig): Promise<LoadedTable | undefined> {
  const id = targetIdentifier(table);
  return (await catalog.tableExists(id)) ? catalog.loadTable(id) : undefined;
}

/**
 * What both runners do before a window: the source's offloaded columns from
 * ClickHouse and the target table prepared for them ({@link prepareTarget}).
 * ClickHouse and the catalog are asked at once: neither answer depends on
 * the other, so a run starts one round trip sooner.
 */
export async function prepareTargetForSource(
  clickhouse: ParquetQueryClient,
  catalog: Catalog,
  table: TableConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<PreparedTarget & { readonly columns: readonly ClickHouseColumn[] }> {
  const [described, loaded] = await Promise.all([
    describeClickHouseColumns(clickhouse, parseQualifiedName(table.source), signal),
    loadTargetIfExists(catalog, table),
  ]);
  const columns = selectColumns(table, described);
  return { ...(await prepareTarget(catalog, table, columns, logger, loaded)), columns };
}

/**
 * Loads the target table (or takes `loaded`, the table as just loaded),
 * creating it (and its namespace) from the ClickHouse columns when missing,
 * and brings its schema up to the columns as `onSchemaChange` says:
 * `evolve` commits the new schema, `fail` throws `SchemaMismatchError`.
 * Safe against a concurrent creator or evolver.
 */
export async function prepareTarget(
  catalog: Catalog,
  table: TableConfig,
  columns: readonly ClickHouseColumn[],
  logger: Logger,
  loaded?: LoadedTable,
): Promise<PreparedTarget> {
  const id = targetIdentifier(table);
  loaded ??= await loadOrCreate(catalog, id, table, columns, logger);
  for (let attempt = 1; ; attempt++) {
    const metadata = loaded.metadata;
    const existing = currentSchema(metadata);
    const evolved = evolveSchema(existing, columns, { mode: table.onSchemaChange, lastColumnId: metadata.lastColumnId, table: table.name });
    if (evolved.changes.length === 0) return { table: loaded, schema: existing, changes: [] };
    try {
      loaded = await catalog.commitTable(
        id,
        [
          { type: 'assert-table-uuid', uuid: metadata.tableUuid },
          { type: 'assert-current-schema-id', currentSchemaId: metadata.currentSchemaId },
          { type: 'assert-last-assigned-field-id', lastAssignedFieldId: metadata.lastColumnId },
        ],
        [
          { action: 'add-schema', schema: evolved.schema },
          { action: 'set-current-schema', schemaId: -1 },
        ],
      );
      logger.info('iceberg schema evolved', { table: table.name, target: table.target, changes: evolved.changes.map((c) => `${c.path} ${c.change}`) });
      return { table: loaded, schema: currentSchema(loaded.metadata), changes: evolved.changes };
    } catch (error) {
      if (!(error instanceof CommitConflictError) || attempt >= SCHEMA_COMMIT_ATTEMPTS) throw error;
      loaded = await catalog.loadTable(id);
    }
  }
}

async function loadOrCreate(
  catalog: Catalog,
  id: TableIdentifier,
  table: TableConfig,
  columns: readonly ClickHouseColumn[],
  logger: Logger,
): Promise<LoadedTable> {
  if (await catalog.tableExists(id)) return catalog.loadTable(id);
  const { schema } = evolveSchema(undefined, columns, { mode: 'fail', table: table.name });
  const spec = partitionSpecFor(table, schema);
  await catalog.createNamespace(id.namespace);
  try {
    const created = await catalog.createTable(id, { schema, spec, properties: TARGET_TABLE_PROPERTIES });
    logger.info('iceberg table created', { table: table.name, target: formatIdentifier(id), columns: schema.fields.length });
    return created;
  } catch (error) {
    // Another writer created it first: use theirs.
    if (error instanceof TableAlreadyExistsError) return catalog.loadTable(id);
    throw error;
  }
}
