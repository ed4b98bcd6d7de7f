/**
 * @coldtier/offload-diagnostics — the seeds' thresholds as data, evaluators
 * that grade measurements against them, the Prometheus rules and Grafana
 * dashboard generated from them, and the runbook's diagnosis as an API.
 */
export {
  THRESHOLD_IDS,
  THRESHOLD_CATALOG,
  VOLUME_DURATION_TARGETS,
  DEFAULT_SCHEDULE_MINUTES,
  resolveThresholds,
} from './thresholds/index.js';
export type {
  Threshold,
  ThresholdId,
  ThresholdSet,
  ThresholdOptions,
  ThresholdOverrides,
  ThresholdDefinition,
  ThresholdBounds,
  BoundSpec,
  ScheduleRelativeBound,
  Level,
  ThresholdDirection,
  ThresholdUnit,
  ThresholdSource,
  SeedDocument,
  VolumeDurationTarget,
} from './thresholds/index.js';

export {
  evaluate,
  grade,
  worseLevel,
  worstGrade,
  evaluateCycleDurations,
  evaluateTableDurations,
  evaluateThroughputs,
  evaluateLags,
  evaluateSuccessRate,
  evaluateTableErrors,
  evaluateHourlyRows,
  evaluateDurationForVolume,
  percentile,
} from './evaluate/index.js';
export type { Grade, GradeOptions, WindowGrade, TableRun, VolumeDurationGrade } from './evaluate/index.js';

export {
  generatePrometheusRules,
  renderPrometheusRules,
  renderPrometheusRuleResource,
  resolveRuleInputs,
  ALERT_NAMES,
  RECORDING_RULE_NAMES,
  DEFAULT_JOB,
  DEFAULT_RUNBOOK_BASE_URL,
  alertSpecs,
  successRateExpr,
  ruleWindows,
  promDuration,
  exportedSeriesNames,
} from './rules/index.js';
export type {
  RuleOptions,
  PrometheusRuleResourceOptions,
  PrometheusRules,
  AlertingRule,
  RecordingRule,
  RuleGroup,
  AlertSpec,
  AlertContext,
  AlertName,
  Severity,
  RuleWindows,
} from './rules/index.js';

export {
  generateGrafanaDashboard,
  renderGrafanaDashboard,
  DASHBOARD_UID,
  DASHBOARD_TITLE,
  DATASOURCE,
  thresholdSteps,
} from './dashboard/index.js';
export type { DashboardOptions, GrafanaDashboard, Panel, PanelTarget, ThresholdStep, GridPos } from './dashboard/index.js';

export {
  runDiagnostics,
  formatDiagnosticReport,
  DEFAULT_DIAGNOSTIC_HOURS,
  DEFAULT_SPIKE_RATIO,
  osHostProbe,
  clickHousePingProbe,
} from './runbook/index.js';
export type {
  DiagnosticsOptions,
  CycleSummary,
  HostProbe,
  NetworkProbe,
  RoundTrips,
  DiagnosticReport,
  DiagnosticSteps,
  StepName,
  StepResult,
  StepStatus,
  Finding,
  FindingSeverity,
  Evidence,
  Scenario,
  Verdict,
  CycleDurations,
  TableDurations,
  TableVolume,
  HourCount,
  Resources,
  HostSample,
  NetworkSample,
  QueryPerformance,
  TableQueries,
  LoggedQuery,
  RunningQuery,
  TableParts,
  TableWatermark,
} from './runbook/index.js';

export {
  MAINTENANCE_ALERT_NAMES,
  MAINTENANCE_DASHBOARD_UID,
  generateMaintenanceDashboard,
  generateMaintenanceRules,
  renderMaintenanceRules,
} from './maintenance/index.js';
export type { MaintenanceRuleOptions } from './maintenance/index.js';
