export { ALERT_NAMES, alertSpecs, successRateExpr } from './alerts.js';
export type { AlertContext, AlertName, AlertSpec, Severity } from './alerts.js';
export {
  DEFAULT_JOB,
  DEFAULT_RUNBOOK_BASE_URL,
  RECORDING_RULE_NAMES,
  generatePrometheusRules,
  renderPrometheusRules,
  renderPrometheusRuleResource,
  resolveRuleInputs,
} from './generate.js';
export type { AlertingRule, PrometheusRuleResourceOptions, PrometheusRules, RecordingRule, RuleGroup, RuleOptions } from './generate.js';
export { promDuration, ruleWindows } from './promql.js';
export type { RuleWindows } from './promql.js';
export { METRIC_NAMES, UP, exportedSeriesNames } from './series.js';
