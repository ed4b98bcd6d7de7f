import type { QueryResult, QueryResultRow } from 'pg';

/**
 * The part of `pg` the watermark store uses. A `pg.Pool` satisfies `PgPool`;
 * so does any wrapper (instrumented pool, test double) with the same methods.
 */
export interface PgQueryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export interface PgPoolClient extends PgQueryable {
  /** Passing an error destroys the connection instead of returning it to the pool. */
  release(err?: Error | boolean): void;
}

export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

/**
 * Runs `work` in one transaction on one connection. A connection whose
 * rollback failed is destroyed, never handed back to the pool mid-transaction.
 */
export async function inTransaction<T>(pool: Pick<PgPool, 'connect'>, work: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
