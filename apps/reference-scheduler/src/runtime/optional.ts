import { OffloadError } from '@coldtier/offload-core';

/**
 * Loads a part of the embedded single-machine setup (chdb, PGlite) on first
 * use. They are optional dependencies: a production install
 * (`pnpm deploy --prod --no-optional`, the container image) leaves them out,
 * and only a command that needs the embedded setup says so.
 */
export async function loadEmbedded<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
    throw new OffloadError(
      'config',
      `the embedded setup needs ${pkg}, which this installation leaves out (optional dependency); ` +
        'configure a ClickHouse server (clickhouse.url) and PostgreSQL (watermarkStore.urlEnv) with --config, or install with optional dependencies',
      { cause },
    );
  }
}
