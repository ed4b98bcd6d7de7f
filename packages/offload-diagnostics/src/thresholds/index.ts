export { THRESHOLD_IDS } from './types.js';
export type {
  BoundSpec,
  Level,
  ScheduleRelativeBound,
  SeedDocument,
  Threshold,
  ThresholdBounds,
  ThresholdDefinition,
  ThresholdDirection,
  ThresholdId,
  ThresholdOverrides,
  ThresholdSource,
  ThresholdUnit,
} from './types.js';
export { THRESHOLD_CATALOG, VOLUME_DURATION_TARGETS } from './catalog.js';
export type { VolumeDurationTarget } from './catalog.js';
export { DEFAULT_SCHEDULE_MINUTES, resolveThresholds } from './resolve.js';
export type { ThresholdOptions, ThresholdSet } from './resolve.js';
