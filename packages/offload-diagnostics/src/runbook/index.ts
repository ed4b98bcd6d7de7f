export { runDiagnostics, DEFAULT_DIAGNOSTIC_HOURS, DEFAULT_SPIKE_RATIO } from './run.js';
export type { DiagnosticsOptions } from './run.js';
export type { CycleSummary } from './steps/durations.js';
export { osHostProbe } from './steps/resources.js';
export type { HostProbe } from './steps/resources.js';
export { clickHousePingProbe } from './steps/network.js';
export type { NetworkProbe, RoundTrips } from './steps/network.js';
export type {
  CycleDurations,
  DiagnosticReport,
  DiagnosticSteps,
  Evidence,
  Finding,
  FindingSeverity,
  HostSample,
  HourCount,
  LoggedQuery,
  NetworkSample,
  QueryPerformance,
  Resources,
  RunningQuery,
  Scenario,
  StepName,
  StepResult,
  StepStatus,
  TableDurations,
  TableParts,
  TableQueries,
  TableVolume,
  TableWatermark,
  Verdict,
} from './types.js';
export { formatDiagnosticReport } from './format.js';
