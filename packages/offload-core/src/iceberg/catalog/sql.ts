import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { systemClock, type Clock } from '../../clock.js';
import { OffloadError, UnknownTableError } from '../../errors.js';
import type { FileIO } from '../io/file-io.js';
import type { TableMetadata } from '../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';
import {
  CommitConflictError,
  CommitStateUnknownError,
  TableAlreadyExistsError,
  formatIdentifier,
  type Catalog,
  type CommitOptions,
  type CreateTableRequest,
  type LoadedTable,
  type TableIdentifier,
} from './catalog.js';
import { encodeMetadataFile, metadataCodec, metadataSuffix, readMetadataFile } from './metadata-file.js';
import { initialMetadata, nextMetadata } from './metadata-update.js';

export interface SqlCatalogOptions {
  /** The catalog's `catalog_name` column value (Spark's catalog name). */
  readonly name: string;
  readonly pool: Pool;
  readonly io: FileIO;
  /** Warehouse root for default table locations. */
  readonly warehouse: string;
  readonly clock?: Clock;
}

/**
 * The catalog's tables exactly as Iceberg's JdbcCatalog creates them (schema
 * V0; a V1 catalog adds `iceberg_type`, which this catalog fills when
 * present), in `schema` (already quoted) or, without it, on the search path.
 * `IF NOT EXISTS`: Spark may have created them first.
 */
export function sqlCatalogDdl(schema?: string): string {
  const q = schema === undefined ? '' : `${schema}.`;
  return `
CREATE TABLE IF NOT EXISTS ${q}iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  PRIMARY KEY (catalog_name, table_namespace, table_name));
CREATE TABLE IF NOT EXISTS ${q}iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255),
  property_value VARCHAR(1000),
  PRIMARY KEY (catalog_name, namespace, property_key));`;
}

const METADATA_FILE = /\/(\d+)-[0-9a-f-]+(?:\.gz\.metadata\.json|\.metadata\.json(?:\.gz)?)$/;

/**
 * Iceberg's JDBC catalog on PostgreSQL, interoperable with Spark's
 * `type=jdbc` catalog on the same tables. Metadata files are named
 * `<NNNNN>-<uuid>.metadata.json` like Iceberg's (`.gz.metadata.json` when the
 * table's `write.metadata.compression-codec` is gzip; gzipped files Spark
 * wrote are read too); a commit swaps the pointer
 * with `UPDATE … WHERE metadata_location = <the one we read>`, so zero rows
 * updated means another writer won ({@link CommitConflictError}).
 *
 * {@link CommitOptions.inTransaction} runs in the same transaction as the
 * swap: when the watermark store shares this database, the watermark
 * advances if and only if the snapshot is published.
 */
export class SqlCatalog implements Catalog {
  readonly io: FileIO;
  readonly #name: string;
  readonly #pool: Pool;
  readonly #warehouse: string;
  readonly #clock: Clock;
  #hasTypeColumn: Promise<boolean> | undefined;

  constructor(options: SqlCatalogOptions) {
    this.#name = options.name;
    this.#pool = options.pool;
    this.io = options.io;
    this.#warehouse = options.warehouse.replace(/\/+$/, '');
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Creates the catalog tables if absent (idempotent). Coldtier's own
   * scheduler does not call this: its `migrate` creates them (watermark
   * migration 5), under the migrations' advisory lock.
   */
  async initialize(): Promise<void> {
    await this.#pool.query(sqlCatalogDdl());
    this.#hasTypeColumn = undefined;
  }

  async listNamespaces(): Promise<string[][]> {
    const { rows } = await this.#pool.query<{ ns: string }>(
      `SELECT table_namespace AS ns FROM iceberg_tables WHERE catalog_name = $1
       UNION SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = $1 ORDER BY 1`,
      [this.#name],
    );
    return rows.map((r) => r.ns.split('.'));
  }

  async createNamespace(namespace: readonly string[], properties: Readonly<Record<string, string>> = {}): Promise<void> {
    // JdbcCatalog records an `exists` property so an empty namespace is still listed.
    const entries = Object.entries(Object.keys(properties).length > 0 ? properties : { exists: 'true' });
    for (const [key, value] of entries) {
      await this.#pool.query(
        `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
         VALUES ($1, $2, $3, $4) ON CONFLICT (catalog_name, namespace, property_key) DO UPDATE SET property_value = EXCLUDED.property_value`,
        [this.#name, namespace.join('.'), key, value],
      );
    }
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    return (await this.#pointer(id)) !== undefined;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const location = await this.#pointer(id);
    if (location === undefined) throw new UnknownTableError(formatIdentifier(id), `not in catalog ${this.#name}`);
    return this.#read(id, location);
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    const location = request.location ?? [this.#warehouse, ...id.namespace, id.name].join('/');
    const metadata = initialMetadata(location, request, this.#clock);
    const metadataLocation = await this.#writeMetadata(id, metadata, 0);
    const typed = await this.#typeColumn();
    try {
      await this.#pool.query(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location${typed ? ', iceberg_type' : ''})
         VALUES ($1, $2, $3, $4, NULL${typed ? `, 'TABLE'` : ''})`,
        [this.#name, id.namespace.join('.'), id.name, metadataLocation],
      );
    } catch (error) {
      await this.io.delete(metadataLocation);
      if ((error as { code?: string }).code === '23505') throw new TableAlreadyExistsError(formatIdentifier(id));
      throw error;
    }
    return { identifier: id, metadata, metadataLocation };
  }

  async commitTable(
    id: TableIdentifier,
    requirements: readonly TableRequirement[],
    updates: readonly TableUpdate[],
    options: CommitOptions = {},
  ): Promise<LoadedTable> {
    const current = await this.loadTable(id);
    const metadata = nextMetadata(current, requirements, updates, this.#clock);
    const version = Number(METADATA_FILE.exec(current.metadataLocation)?.[1] ?? -1) + 1;
    const metadataLocation = await this.#writeMetadata(id, metadata, version);
    const client = await this.#pool.connect();
    let committed = false;
    let hookError: { error: unknown } | undefined;
    let unknown = false;
    try {
      await client.query('BEGIN');
      const swapped = await client.query(
        `UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2
         WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $2`,
        [metadataLocation, current.metadataLocation, this.#name, id.namespace.join('.'), id.name],
      );
      if (swapped.rowCount !== 1) {
        throw new CommitConflictError(formatIdentifier(id), `metadata moved past ${current.metadataLocation}`);
      }
      if (options.inTransaction) {
        try {
          await options.inTransaction(client);
        } catch (error) {
          hookError = { error };
          throw error;
        }
      }
      try {
        await client.query('COMMIT');
      } catch (error) {
        unknown = true;
        throw new CommitStateUnknownError(formatIdentifier(id), { cause: error });
      }
      committed = true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The hook's own error reaches the caller untouched; database failures are classified here.
      throw hookError || error instanceof OffloadError
        ? error
        : new OffloadError('internal', `commit to ${formatIdentifier(id)} failed: ${String(error)}`, {
            table: formatIdentifier(id),
            cause: error,
          });
    } finally {
      client.release();
      // An unpublished metadata file is garbage; a published one is the table.
      if (!committed && !unknown) await this.io.delete(metadataLocation).catch(() => undefined);
    }
    return { identifier: id, metadata, metadataLocation };
  }

  async #pointer(id: TableIdentifier): Promise<string | undefined> {
    const typed = await this.#typeColumn();
    const { rows } = await this.#pool.query<{ metadata_location: string | null }>(
      `SELECT metadata_location FROM iceberg_tables
       WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3
       ${typed ? `AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)` : ''}`,
      [this.#name, id.namespace.join('.'), id.name],
    );
    return rows[0]?.metadata_location ?? undefined;
  }

  async #read(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable> {
    return { identifier: id, metadata: await readMetadataFile(this.io, metadataLocation), metadataLocation };
  }

  async #writeMetadata(id: TableIdentifier, metadata: TableMetadata, version: number): Promise<string> {
    const codec = metadataCodec(metadata.properties, formatIdentifier(id));
    const location = `${metadata.location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}${metadataSuffix(codec)}`;
    await this.io.create(location, encodeMetadataFile(metadata, codec));
    return location;
  }

  #typeColumn(): Promise<boolean> {
    this.#hasTypeColumn ??= this.#pool
      .query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'iceberg_tables' AND column_name = 'iceberg_type'`,
      )
      .then((r) => (r.rowCount ?? 0) > 0);
    return this.#hasTypeColumn;
  }
}
