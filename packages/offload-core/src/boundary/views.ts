import type { TableConfig } from '../config/index.js';
import type { Catalog } from '../iceberg/catalog/catalog.js';
import type { StorageOptions } from '../iceberg/io/for-location.js';
import { describeClickHouseColumns, type ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import { parseQualifiedName } from '../identifiers/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { committedWatermarkOf } from '../runner/embedded/summary.js';
import { selectColumns, targetIdentifier } from '../runner/embedded/target-table.js';
import { describeCursorColumns } from '../source/cursor-columns.js';
import { boundaryViewName, boundaryViewSql, type BoundaryViewSpec } from './view-sql.js';

export interface BoundaryViewsOptions {
  readonly client: ParquetQueryClient;
  /** The catalog the offload commits to; the view reads the table at its current metadata. */
  readonly catalog: Catalog;
  /** See {@link BoundaryViewSpec.pathBase}. */
  readonly pathBase: string | undefined;
  /** See {@link BoundaryViewSpec.storage}; the same settings the catalog's FileIO was built from. */
  readonly storage: StorageOptions;
  readonly logger?: Logger;
}

/** Builds and (re)creates the views over both tiers, one per table. */
export class BoundaryViews {
  readonly #options: BoundaryViewsOptions;
  readonly #logger: Logger;

  constructor(options: BoundaryViewsOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * The view's definition at the table's latest commit. The boundary is the
   * newest `coldtier.watermark` of this source in the Iceberg table, read
   * with the metadata file the view then pins, so the two always agree;
   * before Coldtier's first commit every row is hot.
   */
  async spec(table: TableConfig, signal?: AbortSignal): Promise<BoundaryViewSpec> {
    const { client, catalog } = this.#options;
    const columns = selectColumns(table, await describeClickHouseColumns(client, parseQualifiedName(table.source), signal));
    const cursorColumns = await describeCursorColumns(client, table, signal);
    const id = targetIdentifier(table);
    const loaded = (await catalog.tableExists(id)) ? await catalog.loadTable(id) : null;
    const boundary = loaded ? (committedWatermarkOf(loaded.metadata, table.source) ?? null) : null;
    const iceberg = loaded && boundary ? { location: loaded.metadata.location, metadataLocation: loaded.metadataLocation } : null;
    return { table, columns, cursorColumns, boundary, iceberg, pathBase: this.#options.pathBase, storage: this.#options.storage };
  }

  /** `CREATE OR REPLACE VIEW` text for the table's latest commit. */
  async sql(table: TableConfig, signal?: AbortSignal): Promise<string> {
    return boundaryViewSql(await this.spec(table, signal));
  }

  /** Creates or replaces the view. */
  async apply(table: TableConfig, signal?: AbortSignal): Promise<string> {
    const query = await this.sql(table, signal);
    await this.#options.client.command({ query, ...(signal ? { abort_signal: signal } : {}) });
    return query;
  }

  /** Moves the boundary of a view that exists (created by `coldtier view --apply`); false when there is none. */
  async refresh(table: TableConfig, signal?: AbortSignal): Promise<boolean> {
    const view = boundaryViewName(table);
    const result = await this.#options.client.query({
      query: 'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      format: 'JSONEachRow',
      query_params: { db: view.namespace, name: view.name },
      ...(signal ? { abort_signal: signal } : {}),
    });
    const [row] = await result.json<{ n: string | number }>();
    if (Number(row?.n ?? 0) === 0) return false;
    await this.apply(table, signal);
    this.#logger.debug(`view ${view.namespace}.${view.name} moved to the new boundary`, { table: table.name });
    return true;
  }
}
