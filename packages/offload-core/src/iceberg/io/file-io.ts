import { OffloadError } from '../../errors.js';

/**
 * The storage a table lives on, as iceberg-rust's FileIO: whole-object reads
 * and writes addressed by location (a path or URI). `create` is the only
 * primitive commits rely on: it must fail atomically when the object exists.
 */
export interface FileIO {
  read(location: string): Promise<Uint8Array>;
  /** Creates or replaces an object. */
  write(location: string, data: Uint8Array): Promise<void>;
  /**
   * Creates an object only if none exists at the location, atomically: of
   * two concurrent creates exactly one succeeds; the other throws
   * {@link FileAlreadyExistsError}. Readers never see a partial object.
   */
  create(location: string, data: Uint8Array): Promise<void>;
  exists(location: string): Promise<boolean>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(location: string): Promise<void>;
  /** Locations of the objects directly under a prefix (a directory). */
  list(prefix: string): Promise<string[]>;
  /**
   * Every object under a prefix, at any depth, with its size and last
   * modification time (orphan cleanup's grace period reads it). Optional so
   * a storage can be added before it supports the listing; orphan cleanup
   * refuses a storage without it.
   */
  listRecursive?(prefix: string): Promise<FileInfo[]>;
}

/** An object found by {@link FileIO.listRecursive}. */
export interface FileInfo {
  readonly location: string;
  readonly sizeBytes: number;
  readonly modifiedAt: Date;
}

/** {@link FileIO.create} found an object already at the location. */
export class FileAlreadyExistsError extends OffloadError {
  readonly location: string;
  constructor(location: string, options: { cause?: unknown } = {}) {
    super('commit_conflict', `${location} already exists`, { retryable: true, cause: options.cause });
    this.location = location;
  }
}
