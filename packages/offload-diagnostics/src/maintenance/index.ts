export { MAINTENANCE_ALERT_NAMES, generateMaintenanceRules, renderMaintenanceRules } from './rules.js';
export type { MaintenanceRuleOptions } from './rules.js';
export { MAINTENANCE_DASHBOARD_UID, generateMaintenanceDashboard } from './dashboard.js';
