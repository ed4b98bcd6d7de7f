import { OffloadError, UnknownTableError } from '../../../errors.js';
import { CommitConflictError, CommitStateUnknownError, TableAlreadyExistsError } from '../catalog.js';

/** A REST catalog request failed for a reason other than a commit conflict or an unknown outcome. */
export class RestCatalogError extends OffloadError {
  /** The catalog's HTTP status; undefined when no response arrived. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number | undefined; retryable: boolean; table?: string | undefined; cause?: unknown }) {
    super(options.status === 401 || options.status === 403 ? 'config' : 'internal', message, options);
    this.status = options.status;
  }
}

/** What a request was, for mapping its failure (Java's per-route `ErrorHandlers`). */
export type RestRoute = 'config' | 'namespace' | 'create-namespace' | 'load-table' | 'create-table' | 'commit' | 'token';

/** The error body of the REST spec (`ErrorModel`); message and type only, never the request. */
export interface RestErrorBody {
  readonly message?: string;
  readonly type?: string;
}

/**
 * Maps an HTTP error response to a typed error, as Iceberg Java's
 * `ErrorHandlers`: on a commit, 409 is a conflict (reload and re-apply) and
 * 500/502/503/504 leave the outcome unknown (never re-sent blindly);
 * elsewhere 5xx and 429 are retryable, 401/403 are configuration.
 */
export function errorForStatus(route: RestRoute, status: number, body: RestErrorBody, table: string | undefined): OffloadError {
  const detail = `HTTP ${status}${body.type ? ` ${body.type}` : ''}${body.message ? `: ${body.message}` : ''}`;
  if (route === 'commit' && table !== undefined) {
    if (status === 409) return new CommitConflictError(table, detail);
    if (status === 500 || status === 502 || status === 503 || status === 504) {
      return new CommitStateUnknownError(table, { cause: new RestCatalogError(detail, { status, retryable: false, table }) });
    }
  }
  if (status === 404 && table !== undefined && (route === 'load-table' || route === 'commit')) return new UnknownTableError(table, detail);
  if (status === 409 && route === 'create-table' && table !== undefined) return new TableAlreadyExistsError(table);
  const where = route === 'token' ? 'the OAuth2 token endpoint' : `the REST catalog (${route})`;
  return new RestCatalogError(`${where} answered ${detail}`, { status, retryable: status === 429 || status >= 500, table });
}

/** No response arrived (timeout, reset, refused). After a commit was sent, its outcome is unknown. */
export function errorForNetwork(route: RestRoute, cause: unknown, table: string | undefined): OffloadError {
  if (route === 'commit' && table !== undefined) return new CommitStateUnknownError(table, { cause });
  const reason = cause instanceof Error ? (cause.name === 'TimeoutError' ? 'timed out' : cause.message) : String(cause);
  return new RestCatalogError(`the REST catalog (${route}) did not answer: ${reason}`, { retryable: true, table, cause });
}
