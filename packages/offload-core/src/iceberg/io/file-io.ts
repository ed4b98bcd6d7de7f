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
   * A local file to write an object's bytes into (by any process that can
   * write local files, e.g. ClickHouse), published to `location` as a whole
   * once complete: readers never see a partial object, and memory stays
   * bounded whatever the size (Java's `S3OutputStream` stages on disk too).
   */
  stage(location: string): Promise<StagedFile>;
  /**
   * Every object under a prefix, at any depth, with its size and last
   * modification time (orphan cleanup's grace period reads it). Optional so
   * a storage can be added before it supports the listing; orphan cleanup
   * refuses a storage without it.
   */
  listRecursive?(prefix: string): Promise<FileInfo[]>;
  /**
   * An object another process writes whole (ClickHouse's `INSERT INTO
   * FUNCTION`, the server-side export), whose tail is then replaced as it
   * is published at `location`: a Parquet footer gains its field ids
   * without the body passing through this process where the store can copy
   * it itself. Optional: a storage without it takes no server-side export.
   */
  stageObject?(location: string): Promise<StagedObject>;
}

/** An object being written by another process on its way to `location` (see {@link FileIO.stageObject}). */
export interface StagedObject {
  /** Where the other process writes the object: on the same storage, beside `location`. */
  readonly location: string;
  /** The object's last `length` bytes (all of it when shorter) and its size. */
  readTail(length: number): Promise<{ readonly bytes: Uint8Array; readonly size: number }>;
  /**
   * Makes the staged object's first `keepBytes` followed by `tail` the
   * object at the location (replacing any), then removes the staged object.
   * Readers never see a partial object.
   */
  publishWithTail(keepBytes: number, tail: Uint8Array): Promise<void>;
  /** Removes the staged object without publishing; safe to call after a failed or a completed publish. */
  discard(): Promise<void>;
}

/** A file being written locally on its way to `location` (see {@link FileIO.stage}). */
export interface StagedFile {
  /** Local path to write the bytes to; it may be rewritten in place before publishing. */
  readonly path: string;
  /** Makes the bytes the object at the location (replacing any), durably, and removes the local file. */
  publish(): Promise<void>;
  /** Removes the local file without publishing; safe to call after a failed or a completed publish. */
  discard(): Promise<void>;
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
