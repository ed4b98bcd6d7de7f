export { DASHBOARD_TITLE, DASHBOARD_UID, generateGrafanaDashboard, renderGrafanaDashboard } from './generate.js';
export type { DashboardOptions, GrafanaDashboard } from './generate.js';
export { DATASOURCE, thresholdSteps } from './panels.js';
export type { GridPos, Panel, PanelTarget, ThresholdStep } from './panels.js';
