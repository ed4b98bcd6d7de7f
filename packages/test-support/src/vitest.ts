import { inject } from 'vitest';
import { createDatabase, type TestDatabase } from './postgres.js';

/** A fresh database on the run's shared PostgreSQL server (see global-setup). */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(inject('postgresUrl'));
}
