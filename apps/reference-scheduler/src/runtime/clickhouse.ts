import { mkdir } from 'node:fs/promises';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { messageOf, OffloadError } from '@coldtier/offload-core';
import type { OffloadConfig } from '@coldtier/offload-core';
import { loadEmbedded } from './optional.js';

/**
 * A ClickHouse client for the config: over HTTP for a server URL, or on an
 * in-process chdb engine for `embedded` (one data directory per process).
 */
export async function openClickHouse(config: OffloadConfig, defaultPath: string): Promise<ClickHouseClient> {
  const { url, username, password, path } = config.clickhouse;
  if (url !== 'embedded') return createClient({ url, username, ...(password === undefined ? {} : { password }) });
  const dataDir = path ?? defaultPath;
  const { createChdbConnection } = await loadEmbedded('chdb', () => import('chdb/connection'));
  await mkdir(dataDir, { recursive: true }).catch((cause: unknown) => {
    throw new OffloadError('config', `invalid clickhouse.path ${JSON.stringify(dataDir)}: ${messageOf(cause)}`, { cause });
  });
  // chdb types its Connection against @clickhouse/client-common, which
  // @clickhouse/client bundles under its own declarations; same shape.
  const connection = createChdbConnection({ path: dataDir }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  return createClient({ connection });
}
