import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, openTestPool } from '@coldtier/test-support';
import type { TestDatabase } from '@coldtier/test-support';
import { migrate } from '../src/watermark/migrations.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';
import { describeWatermarkStoreConformance } from './watermark-store.conformance.js';

let database: TestDatabase;
let pool: pg.Pool;
let schemas = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = openTestPool({ connectionString: database.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

// A fresh schema per test keeps tests independent without a database each.
describeWatermarkStoreConformance('PostgresWatermarkStore', async (clock) => {
  const schema = `conformance_${++schemas}`;
  await migrate(pool, { schema });
  return new PostgresWatermarkStore({ pool, clock, schema });
});
