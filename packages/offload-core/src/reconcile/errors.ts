import { OffloadError } from '../errors.js';

/** Reconciliation could not be carried out (a query failed, or the requested method cannot apply). */
export class ReconcileError extends OffloadError {
  constructor(table: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('internal', `reconciling ${table}: ${message}`, { table, ...options });
  }
}
