import { access, cp, mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The table Spark 3.5.5 + Iceberg 1.8.1 wrote (shared/fixtures), one append snapshot, one row. */
export const SPARK_FIXTURE_DIR = fileURLToPath(new URL('../../../../shared/fixtures/spark-3.5.5-iceberg-1.8.1/trades_test', import.meta.url));
/** Spark recorded absolute paths, so the table must sit where it was written. */
export const SPARK_FIXTURE_WAREHOUSE = '/home/iceberg/warehouse';
export const SPARK_FIXTURE_LOCATION = `${SPARK_FIXTURE_WAREHOUSE}/cold/trades_test`;

const LOCK = `${SPARK_FIXTURE_LOCATION}.lock`;
const STALE_LOCK_MS = 10 * 60_000;

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** A fresh copy of the Spark table at its recorded location, held exclusively until `release()`. */
export interface SparkFixture {
  readonly warehouse: string;
  readonly location: string;
  release(): Promise<void>;
}

/**
 * Several test files (in separate worker processes) use the one location
 * Spark's paths point at: a lock directory, created atomically, makes them
 * take turns. A lock older than ten minutes is from a killed run and is broken.
 */
export async function acquireSparkFixture(timeoutMs = 120_000): Promise<SparkFixture> {
  let created = LOCK;
  while (!(await exists(dirname(created)))) created = dirname(created);
  await mkdir(dirname(LOCK), { recursive: true });
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another run's release may have removed the parents it had created.
      if (code === 'ENOENT') {
        await mkdir(dirname(LOCK), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
      const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rmdir(LOCK).catch(() => {});
      if (Date.now() > giveUpAt) throw new Error(`the Spark fixture at ${SPARK_FIXTURE_LOCATION} stayed locked for ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await rm(SPARK_FIXTURE_LOCATION, { recursive: true, force: true });
  await cp(SPARK_FIXTURE_DIR, SPARK_FIXTURE_LOCATION, { recursive: true });
  return {
    warehouse: SPARK_FIXTURE_WAREHOUSE,
    location: SPARK_FIXTURE_LOCATION,
    async release() {
      await rm(SPARK_FIXTURE_LOCATION, { recursive: true, force: true });
      await rmdir(LOCK);
      // Remove only what the fixture created: the topmost directory that did not exist before.
      if (created !== LOCK) await rm(created, { recursive: true, force: true }).catch(() => {});
    },
  };
}
