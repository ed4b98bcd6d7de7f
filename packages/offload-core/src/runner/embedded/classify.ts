import { JobFailedError, messageOf } from '../../errors.js';
import { CommitConflictError } from '../../iceberg/catalog/catalog.js';

/** Node and driver error codes that mean ClickHouse, PostgreSQL or storage could not be reached. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const CONNECTION_MESSAGES = /socket hang up|ECONNREFUSED|ENOTFOUND|Connection terminated unexpectedly/i;

/** The error and its causes, outermost first (bounded, in case of a cycle). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && out.length < 10; e = (e as { cause?: unknown }).cause) {
    out.push(e);
    if (typeof e !== 'object') break;
  }
  return out;
}

/** @clickhouse/client's error when the server stayed silent for `request_timeout` (it carries no code). */
const CLIENT_TIMEOUT_MESSAGE = /^Timeout error\.$/;

function isClientTimeout(error: unknown): boolean {
  return chain(error).some((e) => e instanceof Error && CLIENT_TIMEOUT_MESSAGE.test(e.message));
}

function isConnectionError(error: unknown): boolean {
  return chain(error).some((e) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    return e instanceof Error && CONNECTION_MESSAGES.test(e.message);
  });
}

/**
 * Maps a failure of an in-process offload to the job error types. What the
 * runner's caller did wins: a failure while `signal` is aborted is the abort
 * (`process_error`, not retried, the signal's reason as cause), as in the
 * Spark runner. A ClickHouse server silent past the client's request timeout
 * is `timeout` and unreachable ClickHouse/PostgreSQL (or a dropped connection)
 * is `connection`, both retried;
 * a commit that kept conflicting after the append's own retries is worth a
 * fresh attempt; everything else (unknown table, schema mismatch, a watermark
 * another writer advanced, query errors) is `process_error` and not retried,
 * so the watermark stays where it is.
 */
export function classifyEmbeddedFailure(table: string, error: unknown, signal: AbortSignal): JobFailedError {
  if (error instanceof JobFailedError) return error;
  if (signal.aborted) {
    return new JobFailedError(table, 'process_error', `Offload aborted: ${table} (job stopped)`, { retryable: false, cause: signal.reason });
  }
  const detail = messageOf(error);
  if (isClientTimeout(error)) {
    return new JobFailedError(table, 'timeout', `Offload failed: ${table} (ClickHouse did not answer in time): ${detail}`, { retryable: true, cause: error });
  }
  if (isConnectionError(error)) {
    return new JobFailedError(table, 'connection', `Offload failed: ${table} (connection error): ${detail}`, { retryable: true, cause: error });
  }
  if (error instanceof CommitConflictError) {
    return new JobFailedError(table, 'process_error', `Offload failed: ${table} (commit kept conflicting): ${detail}`, { retryable: true, cause: error });
  }
  return new JobFailedError(table, 'process_error', `Offload failed: ${table}: ${detail}`, { retryable: false, cause: error });
}
