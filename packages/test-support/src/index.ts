export { startPostgres, createDatabase, openTestPool, DEFAULT_PG_BIN } from './postgres.js';
export type { PostgresServer, TestDatabase } from './postgres.js';
export { startEmbeddedClickHouse } from './clickhouse.js';
export type { EmbeddedClickHouse } from './clickhouse.js';
export { createTempDir } from './temp.js';
export type { TempDir } from './temp.js';
export { createTestDatabase } from './vitest.js';
export { acquireSparkFixture, SPARK_FIXTURE_DIR, SPARK_FIXTURE_LOCATION, SPARK_FIXTURE_WAREHOUSE } from './spark-fixture.js';
export type { SparkFixture } from './spark-fixture.js';
