/** ClickHouse error codes this server raises itself (the engine raises the rest). */
export const ErrorCode = {
  NOT_IMPLEMENTED: 48,
  UNKNOWN_TABLE: 60,
  SYNTAX_ERROR: 62,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_SETTING: 115,
  READONLY: 164,
  SESSION_NOT_FOUND: 372,
  SESSION_IS_LOCKED: 373,
  AUTHENTICATION_FAILED: 516,
  STD_EXCEPTION: 1001,
} as const;

/** An exception as ClickHouse reports it over HTTP: the code and its `Code: N. DB::Exception: ...` text. */
export interface ServerException {
  readonly code: number;
  readonly message: string;
}

/** Builds the text a ClickHouse server writes for an exception it raises itself. */
export function serverException(code: number, name: string, text: string, version: string): ServerException {
  return { code, message: `Code: ${code}. DB::Exception: ${text}. (${name}) (version ${version} (official build))` };
}

/**
 * The engine's error as the server reports it. chdb throws ClickHouse's own
 * `Code: N. DB::Exception: ...` text; the server appends its version, as
 * ClickHouse does. Anything else is a std::exception of the host process.
 */
export function engineException(cause: unknown, version: string): ServerException {
  const text = cause instanceof Error ? cause.message : String(cause);
  const match = /^Code: (\d+)\./.exec(text);
  if (!match) return serverException(ErrorCode.STD_EXCEPTION, 'STD_EXCEPTION', text, version);
  const message = /\(version [^)]*\)\s*$/.test(text) ? text.trimEnd() : `${text.trimEnd()} (version ${version} (official build))`;
  return { code: Number(match[1]), message };
}

/**
 * The HTTP status ClickHouse's HTTP handler answers an exception with
 * (`exceptionCodeToHTTPStatus`): authentication and client errors get 4xx,
 * everything else 500.
 */
export function httpStatusOf(code: number): number {
  switch (code) {
    case ErrorCode.AUTHENTICATION_FAILED:
    case ErrorCode.READONLY:
      return 403;
    case ErrorCode.SYNTAX_ERROR:
      return 400;
    case ErrorCode.UNKNOWN_SETTING:
    case ErrorCode.UNKNOWN_TABLE:
    case ErrorCode.UNKNOWN_DATABASE:
    case ErrorCode.SESSION_NOT_FOUND:
      return 404;
    case ErrorCode.NOT_IMPLEMENTED:
      return 501;
    default:
      return 500;
  }
}
