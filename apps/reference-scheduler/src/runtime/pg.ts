import pg from 'pg';

/**
 * A pool on `url`. An idle client that errors (server restart) is reported,
 * not thrown, so it cannot crash the daemon; the next query reconnects.
 */
export function openPool(url: string, max: number, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', onError);
  return pool;
}

export type AppPool = pg.Pool;
