export { bronzeTableDdl, insertTrades } from './k2-bronze.js';
export type { BronzeTableOptions, TradeBatch } from './k2-bronze.js';
