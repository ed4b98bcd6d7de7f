import { readFileSync } from 'node:fs';

/** This package's version (`offload_info{version}`), read from package.json beside src/ and dist/. */
export function appVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof json.version === 'string' ? json.version : '0.0.0';
}
