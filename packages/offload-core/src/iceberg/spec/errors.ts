import { OffloadError } from '../../errors.js';

/**
 * Iceberg metadata that breaks the spec (or uses a part of it this writer does
 * not implement): a malformed metadata file, an unknown transform, a failed
 * table requirement. Not retryable: the same input fails the same way.
 */
export class IcebergSpecError extends OffloadError {
  constructor(message: string, options: { table?: string | undefined; cause?: unknown } = {}) {
    super('schema', message, { table: options.table, cause: options.cause });
  }
}
