import { OffloadError, pendingMigrations } from '@coldtier/offload-core';
import type { PgQueryable } from '@coldtier/offload-core';

/**
 * A production scheduler does not change the schema behind the operator's
 * back: the upgrade is an explicit `coldtier migrate`, run once per release.
 */
export async function assertSchemaCurrent(db: PgQueryable): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new OffloadError('config', `the watermark schema is not up to date (pending migrations: ${pending.join(', ')}); run \`coldtier migrate\` first`);
  }
}
