import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

/** An embedded ClickHouse engine (chdb) behind the ordinary `@clickhouse/client` API. */
export interface EmbeddedClickHouse {
  readonly client: ClickHouseClient;
  /** The engine's data directory. */
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Opens chdb on a fresh data directory. chdb binds one directory per process,
 * so call this once per test file (vitest runs each file in its own fork).
 */
export async function startEmbeddedClickHouse(): Promise<EmbeddedClickHouse> {
  const path = await mkdtemp(join(tmpdir(), 'coldtier-chdb-'));
  // chdb types its Connection against @clickhouse/client-common, which
  // @clickhouse/client now bundles under its own declarations; same shape.
  const connection = createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  const client = createClient({ connection });
  return {
    client,
    path,
    async close() {
      await client.close();
      await rm(path, { recursive: true, force: true });
    },
  };
}
