export { startClickHouseServer, CLICKHOUSE_SERVER_ENTRY } from './start.js';
export type { ClickHouseTestServer, ClickHouseServerOptions } from './start.js';
export type { ClickHouseFault } from './faults.js';
