import type { TableConfig } from '../../config/index.js';
import type { Catalog } from '../../iceberg/catalog/catalog.js';
import { quoteClickHouse } from '../../identifiers/index.js';
import { parseClickHouseType } from '../../iceberg/schema-mapping/clickhouse-type.js';
import { selectExpression } from '../../iceberg/schema-mapping/type-mapping.js';
import type { ParquetQueryClient } from '../../iceberg/writer/clickhouse-parquet-source.js';
import type { Logger } from '../../logger.js';
import type { Cursor } from '../../watermark/cursor.js';
import { committedWatermarkOf } from '../embedded/summary.js';
import { prepareTargetForSource, targetIdentifier } from '../embedded/target-table.js';
import type { PreparedJob } from './args.js';

/** The source Coldtier describes and the catalog the job writes to, as Coldtier reaches them. */
export interface SparkTarget {
  readonly clickhouse: ParquetQueryClient;
  readonly catalog: Catalog;
}

/**
 * Creates or evolves the target table exactly as the embedded runner does
 * (the same `prepareTargetForSource`), then gives each offloaded column the cast that
 * makes ClickHouse's Parquet carry its Iceberg type: Spark appends those
 * columns unchanged, so the table never depends on Spark's type inference.
 */
export async function prepareSparkTarget(target: SparkTarget, table: TableConfig, logger: Logger, signal?: AbortSignal): Promise<PreparedJob> {
  const { schema, columns } = await prepareTargetForSource(target.clickhouse, target.catalog, table, logger, signal);
  const select = columns.map((column) => {
    const field = schema.fields.find((f) => f.name === column.name);
    // prepareTarget just brought the schema up to these columns.
    if (!field) throw new Error(`column ${column.name} is missing from the prepared schema of ${table.target}`);
    return `${selectExpression(column.name, field.type, parseClickHouseType(column.type))} AS ${quoteClickHouse(column.name)}`;
  });
  return { select };
}

/**
 * The newest `coldtier.watermark` of the table's source on its target, read
 * as the embedded runner reads it: the job writes the same summary, so
 * recovery fast-forwards past a window whose report was lost either way.
 */
export async function committedSparkWatermark(target: SparkTarget, table: TableConfig, signal?: AbortSignal): Promise<Cursor | null> {
  signal?.throwIfAborted();
  const id = targetIdentifier(table);
  if (!(await target.catalog.tableExists(id))) return null;
  const loaded = await target.catalog.loadTable(id);
  return committedWatermarkOf(loaded.metadata, table.source) ?? null;
}
