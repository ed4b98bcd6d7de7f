import type { PoolClient } from 'pg';
import { OffloadError } from '../../errors.js';
import type { FileIO } from '../io/file-io.js';
import type { PartitionSpec } from '../spec/partition.js';
import type { TableMetadata } from '../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';
import type { IcebergSchema } from '../spec/types.js';

/** A table's name within a catalog: namespace levels and table name. */
export interface TableIdentifier {
  readonly namespace: readonly string[];
  readonly name: string;
}

/** `ns1.ns2.table`, for messages and error `table` fields. */
export function formatIdentifier(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

/** A table as loaded from a catalog: its metadata and where that metadata lives. */
export interface LoadedTable {
  readonly identifier: TableIdentifier;
  readonly metadata: TableMetadata;
  readonly metadataLocation: string;
}

export interface CreateTableRequest {
  readonly schema: IcebergSchema;
  readonly spec: PartitionSpec;
  readonly properties?: Readonly<Record<string, string>>;
  /** Table location; defaults to `<warehouse>/<namespace...>/<name>`. */
  readonly location?: string;
}

export interface CommitOptions {
  /**
   * Runs inside the catalog's own database transaction, after the pointer
   * swap and before COMMIT, so other writes to the same database (the
   * watermark advance) land atomically with the commit: if the hook throws,
   * the pointer swap rolls back and the commit fails with the hook's error.
   * Only catalogs backed by PostgreSQL support it ({@link SqlCatalog}); the
   * others reject a hook rather than run it non-atomically.
   */
  readonly inTransaction?: (client: PoolClient) => Promise<void>;
}

/**
 * An Iceberg catalog, in iceberg-rust's shape: it resolves names to metadata
 * locations and commits by atomically swapping the pointer after checking
 * the requirements against the latest metadata.
 */
export interface Catalog {
  /** The storage table files (data, manifests, metadata) live on. */
  readonly io: FileIO;
  listNamespaces(): Promise<string[][]>;
  createNamespace(namespace: readonly string[], properties?: Readonly<Record<string, string>>): Promise<void>;
  tableExists(identifier: TableIdentifier): Promise<boolean>;
  /** Throws UnknownTableError when absent. */
  loadTable(identifier: TableIdentifier): Promise<LoadedTable>;
  /** Throws {@link TableAlreadyExistsError} when present. */
  createTable(identifier: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable>;
  /**
   * Applies updates to the latest metadata if every requirement holds on it,
   * writes the next metadata file and swaps the pointer. Throws
   * {@link CommitConflictError} when a requirement fails or another writer
   * swapped first; the caller reloads and re-applies.
   */
  commitTable(
    identifier: TableIdentifier,
    requirements: readonly TableRequirement[],
    updates: readonly TableUpdate[],
    options?: CommitOptions,
  ): Promise<LoadedTable>;
}

/** Another writer committed first, or a requirement no longer holds. Reload and retry. */
export class CommitConflictError extends OffloadError {
  constructor(table: string, message: string, options: { cause?: unknown } = {}) {
    super('commit_conflict', `commit to ${table} conflicted: ${message}`, { table, retryable: true, cause: options.cause });
  }
}

/**
 * The commit may or may not have landed (the connection broke during
 * COMMIT). Files it references must not be cleaned up; reload the table to
 * learn the outcome. Not retryable: a blind retry could append twice.
 */
export class CommitStateUnknownError extends OffloadError {
  constructor(table: string, options: { cause?: unknown } = {}) {
    super('internal', `commit to ${table} has an unknown outcome; reload the table to check`, { table, cause: options.cause });
  }
}

export class TableAlreadyExistsError extends OffloadError {
  constructor(table: string) {
    super('commit_conflict', `Iceberg table ${table} already exists`, { table });
  }
}
