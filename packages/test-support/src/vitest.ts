import { inject } from 'vitest';
import { createDatabase, type TestDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server the whole test run shares. */
    postgresUrl: string;
  }
}


/** A fresh database on the run's shared PostgreSQL server (see global-setup). */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(inject('postgresUrl'));
}
