/**
 * @coldtier/reference-scheduler — the `coldtier` daemon and CLI: wiring of
 * @coldtier/offload-core, -metrics and -diagnostics into a runnable service.
 */
export { runCli } from './cli/main.js';
export type { CliIo, Command } from './cli/io.js';
export { EXIT } from './cli/io.js';
export { CycleScheduler, nextAlignedTick, formatScheduleTime, realTimer } from './scheduler/index.js';
export type { CycleFn, SchedulerOptions, SchedulerState, Timer } from './scheduler/index.js';
export { createRunner } from './runtime/runner.js';
export type { RunnerDeps } from './runtime/runner.js';
