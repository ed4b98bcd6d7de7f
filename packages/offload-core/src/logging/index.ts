export { logOffloadEvents } from './cycle-log.js';
export { createLineLogger } from './human.js';
export type { LineLoggerOptions, LogLevel } from './human.js';
