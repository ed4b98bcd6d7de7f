import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, serverException, type ServerException } from './errors.js';

/** A query request as ClickHouse's HTTP handler reads it. */
export interface QueryRequest {
  /** The `query` parameter and the body, joined by a newline as ClickHouse does. */
  readonly sql: string;
  readonly user: string;
  readonly password: string;
  readonly database: string | undefined;
  readonly defaultFormat: string | undefined;
  readonly queryId: string | undefined;
  readonly sessionId: string | undefined;
  /** `{name:Type}` values as sent, in ClickHouse's escaped text form. */
  readonly params: Readonly<Record<string, string>>;
  /** Settings for the engine (URL parameters that are neither reserved nor HTTP-layer settings). */
  readonly settings: Readonly<Record<string, string>>;
  /** GET implies `readonly` in ClickHouse. */
  readonly readonly: boolean;
  readonly waitEndOfQuery: boolean;
  /** `enable_http_compression=1` with a gzip or deflate `Accept-Encoding`. */
  readonly responseEncoding: 'gzip' | 'deflate' | undefined;
}

/** Parameters the HTTP handler consumes itself; every other one is a setting. */
const RESERVED = new Set([
  'query', 'database', 'default_format', 'user', 'password', 'quota_key', 'query_id', 'session_id',
  'session_timeout', 'session_check', 'close_session', 'compress', 'decompress', 'buffer_size',
  'wait_end_of_query', 'stacktrace', 'role', 'client_protocol_version',
]);

/** Settings of the HTTP layer, meaningless to the engine. */
const HTTP_SETTINGS = new Set([
  'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'http_wait_end_of_query',
  'http_response_buffer_size', 'enable_http_compression', 'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress', 'http_write_exception_in_output_format',
  'http_response_headers', 'add_http_cors_header', 'cancel_http_readonly_queries_on_client_close',
]);

const TRUE_VALUES = new Set(['1', 'true']);

function credentials(url: URL, headers: IncomingHttpHeaders, version: string): { user: string; password: string } | ServerException {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const basic = /^Basic\s+(.+)$/i.exec(header('authorization') ?? '');
  const fromHeaders = header('x-clickhouse-user') !== undefined || header('x-clickhouse-key') !== undefined;
  const fromParams = url.searchParams.has('user') || url.searchParams.has('password');
  if ([basic !== null, fromHeaders, fromParams].filter(Boolean).length > 1) {
    return serverException(ErrorCode.AUTHENTICATION_FAILED, 'AUTHENTICATION_FAILED',
      'Invalid authentication: it is not allowed to use more than one authentication method at once', version);
  }
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (fromHeaders) return { user: header('x-clickhouse-user') ?? 'default', password: header('x-clickhouse-key') ?? '' };
  return { user: url.searchParams.get('user') ?? 'default', password: url.searchParams.get('password') ?? '' };
}

function responseEncoding(url: URL, headers: IncomingHttpHeaders): QueryRequest['responseEncoding'] {
  if (!TRUE_VALUES.has(url.searchParams.get('enable_http_compression') ?? '')) return undefined;
  const accepted = String(headers['accept-encoding'] ?? '').toLowerCase();
  if (/\bgzip\b/.test(accepted)) return 'gzip';
  if (/\bdeflate\b/.test(accepted)) return 'deflate';
  return undefined;
}

/**
 * Reads a query request: the `query` parameter followed by the body, auth from
 * `X-ClickHouse-User`/`X-ClickHouse-Key`, basic auth or `user`/`password`,
 * `param_*` values and settings from the URL.
 */
export function parseQueryRequest(method: string, url: URL, headers: IncomingHttpHeaders, body: string, version: string): QueryRequest | ServerException {
  const auth = credentials(url, headers, version);
  if ('code' in auth) return auth;
  for (const flag of ['compress', 'decompress'] as const) {
    if (TRUE_VALUES.has(url.searchParams.get(flag) ?? '')) {
      return serverException(ErrorCode.NOT_IMPLEMENTED, 'NOT_IMPLEMENTED',
        `${flag}=1 (ClickHouse's native block compression) is not implemented by this test server; use ${flag}=0`, version);
    }
  }
  const queryParam = url.searchParams.get('query') ?? '';
  const sql = queryParam && body ? `${queryParam}\n${body}` : queryParam || body;
  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) params[key.slice('param_'.length)] = value;
    else if (!RESERVED.has(key) && !HTTP_SETTINGS.has(key)) settings[key] = value;
  }
  const optional = (key: string) => url.searchParams.get(key) || undefined;
  return {
    sql,
    ...auth,
    database: optional('database'),
    defaultFormat: optional('default_format'),
    queryId: optional('query_id'),
    sessionId: optional('session_id'),
    params,
    settings,
    readonly: method === 'GET' || method === 'HEAD',
    waitEndOfQuery: TRUE_VALUES.has(url.searchParams.get('wait_end_of_query') ?? '') || TRUE_VALUES.has(url.searchParams.get('http_wait_end_of_query') ?? ''),
    responseEncoding: responseEncoding(url, headers),
  };
}
