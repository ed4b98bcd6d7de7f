export { nextAlignedTick, formatScheduleTime } from './aligned.js';
export { CycleScheduler, realTimer } from './scheduler.js';
export type { CycleFn, SchedulerOptions, SchedulerState, Timer } from './scheduler.js';
