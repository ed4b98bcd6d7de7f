import { ConfigError } from '../errors.js';

/** The schemes `pg` accepts for a server URL. */
const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** A URL for messages and logs: the password, if any, replaced by `***`. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/**
 * The watermark store's PostgreSQL URL from the variable `variable` names
 * (`watermarkStore.urlEnv`), or `undefined` when that variable is unset. The
 * one place the URL is read and checked: a set but empty, unparsable or
 * non-PostgreSQL value is refused naming the variable, instead of failing
 * later as `ECONNREFUSED 127.0.0.1:5432` or `ENOTFOUND base`.
 */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable];
  if (value === undefined) return undefined;
  const path = `${variable} (watermarkStore.urlEnv)`;
  const bad = (expected: string) => new ConfigError([{ path, message: `${expected}, got ${JSON.stringify(redactUrl(value))}` }]);
  if (value.trim() === '') throw bad('is set but empty; expected a postgres:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('expected a postgres://user@host:port/database URL');
  }
  if (!SCHEMES.has(url.protocol)) throw bad(`expected a postgres:// or postgresql:// URL, not ${url.protocol.slice(0, -1)}://`);
  if (url.hostname === '' && !url.searchParams.has('host')) throw bad('expected a host (postgres://user@host:port/database)');
  return value;
}
