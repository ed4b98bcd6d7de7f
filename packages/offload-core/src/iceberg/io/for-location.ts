import { OffloadError } from '../../errors.js';
import type { FileIO } from './file-io.js';
import { LocalFileIO } from './local.js';
import { S3FileIO, isS3Location, type S3StorageOptions } from './s3.js';

/** Storage settings per scheme; a location whose scheme has none configured is an error. */
export interface StorageOptions {
  readonly s3?: S3StorageOptions;
}

/**
 * The FileIO for a warehouse location, chosen by its scheme as iceberg-rust's
 * `FileIOBuilder` does: `s3://` (and Hadoop's `s3a://`, `s3n://`) → S3, a
 * path or `file:` URI → the local filesystem.
 */
export function fileIOFor(location: string, storage: StorageOptions): FileIO {
  if (isS3Location(location)) {
    if (!storage.s3) throw new OffloadError('config', `${location} is on S3 but no S3 storage is configured (storage.s3)`);
    return new S3FileIO(storage.s3);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file:')) {
    throw new OffloadError('config', `no FileIO for ${location}: expected a local path, file:// or s3:// location`);
  }
  return new LocalFileIO();
}
