/**
 * Faults the test server injects on demand:
 * - `refuse`: stops listening and drops open connections, so connecting fails (ECONNREFUSED);
 * - `stall`: accepts requests and never answers them;
 * - `drop-mid-stream`: answers a query with its headers and part of its result, then drops the connection;
 * - `error-500`: answers every query with HTTP 500 and a ClickHouse exception;
 * - `null`: serves normally again.
 */
export type ClickHouseFault = 'refuse' | 'stall' | 'drop-mid-stream' | 'error-500' | null;

export const FAULTS: readonly ClickHouseFault[] = ['refuse', 'stall', 'drop-mid-stream', 'error-500', null];

export function isFault(value: unknown): value is ClickHouseFault {
  return FAULTS.includes(value as ClickHouseFault);
}
