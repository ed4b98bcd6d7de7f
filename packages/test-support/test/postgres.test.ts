import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../src/index.js';

describe('shared PostgreSQL server', () => {
  it('is a real PostgreSQL 15 server with a fresh database per caller', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    afterAll(async () => {
      await client.end();
      await db.drop();
    });
    const { rows } = await client.query<{ v: string; db: string }>(
      'SELECT current_setting($1) AS v, current_database() AS db',
      ['server_version_num'],
    );
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
    expect(rows[0]!.db).toBe(db.name);
  });
});
