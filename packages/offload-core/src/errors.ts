/**
 * One error hierarchy for the package. Every error carries a `kind` callers can
 * switch on and a `retryable` flag the retry policy reads; failures are
 * classified once, where they cross a boundary (process, network, database).
 */
export type OffloadErrorKind =
  | 'config'
  | 'identifier'
  | 'watermark_conflict'
  | 'lease_unavailable'
  | 'job_failed'
  | 'unknown_table'
  | 'schema'
  | 'commit_conflict'
  | 'database'
  | 'internal';

export interface OffloadErrorOptions {
  readonly table?: string | undefined;
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

export class OffloadError extends Error {
  readonly kind: OffloadErrorKind;
  readonly retryable: boolean;
  /** Logical table name the error concerns, when it concerns one. */
  readonly table: string | undefined;

  constructor(kind: OffloadErrorKind, message: string, options: OffloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    this.table = options.table;
  }
}

/** One invalid configuration value, located by its path (`tables[1].timestampColumn`). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends OffloadError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: { source?: string; cause?: unknown } = {}) {
    const where = options.source ? ` in ${options.source}` : '';
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
    super('config', `invalid configuration${where}:\n${lines}`, { cause: options.cause });
    this.issues = issues;
  }
}

export class IdentifierError extends OffloadError {
  constructor(value: string, reason: string) {
    super('identifier', `invalid identifier ${JSON.stringify(value)}: ${reason}`);
  }
}

/** The watermark moved since the run planned its window: another writer owns it now. */
export class WatermarkConflictError extends OffloadError {
  constructor(table: string, message: string) {
    super('watermark_conflict', message, { table });
  }
}

/** Another run (this process or another) holds the table's lease, until `until` if known. */
export class LeaseUnavailableError extends OffloadError {
  readonly holder: string | undefined;
  readonly until: Date | undefined;
  constructor(table: string, holder?: string, until?: Date) {
    const by = holder ?? 'another run';
    super('lease_unavailable', `table ${table} is held ${until ? `until ${until.toISOString()} ` : ''}by ${by}`, { table });
    this.holder = holder;
    this.until = until;
  }
}

export class UnknownTableError extends OffloadError {
  constructor(table: string, detail?: string) {
    super('unknown_table', `unknown table ${table}${detail ? `: ${detail}` : ''}`, { table });
  }
}

/**
 * The error types of the reference's `offload_errors_total{error_type}` label.
 * - `timeout`: the job exceeded its time budget and was killed.
 * - `connection`: a source or target could not be reached.
 * - `process_error`: the job ran and reported failure (non-zero exit, query error).
 * - `crash`: the job died abnormally (signal, out of memory, unexpected exception).
 */
export type JobErrorType = 'timeout' | 'connection' | 'process_error' | 'crash';

export const JOB_ERROR_TYPES: readonly JobErrorType[] = ['timeout', 'connection', 'process_error', 'crash'];

/** A job runner's classified failure. */
export class JobFailedError extends OffloadError {
  readonly errorType: JobErrorType;
  constructor(
    table: string,
    errorType: JobErrorType,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super('job_failed', message, {
      table,
      retryable: options.retryable ?? (errorType === 'connection' || errorType === 'timeout'),
      cause: options.cause,
    });
    this.errorType = errorType;
  }
}

/**
 * The watermark store's (or SQL catalog's) database could not be reached or
 * did not answer in time. Retryable: the next attempt or cycle may find it back.
 */
export class DatabaseError extends OffloadError {
  readonly errorType: 'connection' | 'timeout';
  constructor(errorType: 'connection' | 'timeout', message: string, options: { table?: string; cause?: unknown } = {}) {
    super('database', message, { ...options, retryable: true });
    this.errorType = errorType;
  }
}

/** Socket errors of a peer that is down or unreachable. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/**
 * How a `pg` failure reads as a job error type, or `undefined` when it is not
 * one of reachability or time (a SQL error is not). SQLSTATE class 08 and the
 * shutdown codes 57P01-57P03 mean the server went away; 57014 is a statement
 * cancelled by `statement_timeout`. `pg` reports its own client-side
 * timeouts and dropped sockets only by message.
 */
export function databaseErrorType(error: unknown): 'connection' | 'timeout' | undefined {
  if (error instanceof DatabaseError) return error.errorType;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  if (code === 'ETIMEDOUT' || code === '57014' || /timeout exceeded when trying to connect|Query read timeout|connection timeout/i.test(message)) return 'timeout';
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return 'connection';
  if (/Connection terminated/i.test(message)) return 'connection';
  return undefined;
}

/** Maps any thrown value to a job error type, for metrics and logs; a database outage found anywhere in the cause chain is `connection` or `timeout`. */
export function errorTypeOf(error: unknown): JobErrorType {
  if (error instanceof JobFailedError) return error.errorType;
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = databaseErrorType(e);
    if (type) return type;
    if (typeof e !== 'object' || e === null) break;
  }
  return 'crash';
}

/** A readable one-line message for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
