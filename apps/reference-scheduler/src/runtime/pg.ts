import pg from 'pg';
import { DatabaseError, databaseErrorType, messageOf, redactUrl } from '@coldtier/offload-core';

/** Bounds on every wait for the database, so a server that accepts and never answers cannot hang a run. */
export interface PoolTimeouts {
  readonly connectTimeoutMs: number;
  /** Server-side `statement_timeout`; the client stops waiting a little later, for a server that is silent. */
  readonly statementTimeoutMs: number;
}

/** Slack between the server's statement timeout and the client's: the server's error names the statement. */
const CLIENT_SLACK_MS = 5_000;

/**
 * A pool on `url`. An idle client that errors (server restart) is reported,
 * not thrown, so it cannot crash the daemon; the next query reconnects.
 */
export function openPool(url: string, max: number, timeouts: PoolTimeouts, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    query_timeout: timeouts.statementTimeoutMs + CLIENT_SLACK_MS,
    keepAlive: true,
  });
  pool.on('error', onError);
  return pool;
}

/**
 * One round trip on a new pool, so an unreachable, silent or refusing server
 * is reported once, as `connection` or `timeout`, naming where the URL came
 * from and where it points (without its password).
 */
export async function probePool(pool: pg.Pool, url: string, source: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    const where = `watermark store ${redactUrl(url)} (from ${source})`;
    const type = databaseErrorType(error) ?? 'connection';
    throw new DatabaseError(type, `${where}: ${type}: ${messageOf(error)}`, { cause: error });
  }
}

export type AppPool = pg.Pool;
