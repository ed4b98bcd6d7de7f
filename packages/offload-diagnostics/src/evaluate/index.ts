export { evaluate, grade, worseLevel, worstGrade } from './grade.js';
export type { Grade, GradeOptions } from './grade.js';
export {
  evaluateCycleDurations,
  evaluateHourlyRows,
  evaluateLags,
  evaluateSuccessRate,
  evaluateTableDurations,
  evaluateTableErrors,
  evaluateThroughputs,
  percentile,
} from './windows.js';
export type { TableRun, WindowGrade } from './windows.js';
export { evaluateDurationForVolume } from './volume.js';
export type { VolumeDurationGrade } from './volume.js';
