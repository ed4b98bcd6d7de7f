import { generateMaintenanceDashboard, renderGrafanaDashboard, renderMaintenanceRules, renderPrometheusRules } from '@coldtier/offload-diagnostics';
import { COMMON_HELP, COMMON_OPTIONS, parse } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';

const RULES_HELP = `Usage: coldtier rules [options] > iceberg-offload-rules.yml

Prints the Prometheus recording and alerting rules (the reference's alert
names, thresholds for the configured schedule) as a rule file.

Options:
      --job NAME             Prometheus job scraping the scheduler (default iceberg-scheduler)
      --runbook-base-url U   where runbook_url annotations point
      --maintenance          the table maintenance alerts instead (a second rule
                             file; windows from maintenance.intervalHours)
${COMMON_HELP}`;

const DASHBOARD_HELP = `Usage: coldtier dashboard [options] > iceberg-offload.json

Prints the Grafana dashboard "Iceberg Offload Pipeline" (uid iceberg-offload)
as JSON for the configured schedule, ready to import.

Options:
      --job NAME             Prometheus job scraping the scheduler (default iceberg-scheduler)
      --maintenance          the "Iceberg Table Maintenance" dashboard (uid iceberg-maintenance) instead
${COMMON_HELP}`;

export const rules: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, job: { type: 'string' }, 'runbook-base-url': { type: 'string' }, maintenance: { type: 'boolean' } });
  if (values.help) {
    io.out(`${RULES_HELP}\n`);
    return 0;
  }
  const app = await openApp(values, io, 'rules');
  if (values.maintenance) {
    io.out(
      renderMaintenanceRules({
        intervalHours: app.config.maintenance.intervalHours,
        ...(values.job === undefined ? {} : { job: values.job }),
        ...(values['runbook-base-url'] === undefined ? {} : { runbookBaseUrl: values['runbook-base-url'] }),
      }),
    );
    return 0;
  }
  io.out(
    renderPrometheusRules({
      scheduleMinutes: app.config.scheduleMinutes,
      ...(values.job === undefined ? {} : { job: values.job }),
      ...(values['runbook-base-url'] === undefined ? {} : { runbookBaseUrl: values['runbook-base-url'] }),
    }),
  );
  return 0;
};

export const dashboard: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, job: { type: 'string' }, maintenance: { type: 'boolean' } });
  if (values.help) {
    io.out(`${DASHBOARD_HELP}\n`);
    return 0;
  }
  const app = await openApp(values, io, 'dashboard');
  if (values.maintenance) {
    io.out(`${JSON.stringify(generateMaintenanceDashboard(values.job === undefined ? {} : { job: values.job }), null, 2)}\n`);
    return 0;
  }
  const text = renderGrafanaDashboard({ scheduleMinutes: app.config.scheduleMinutes, ...(values.job === undefined ? {} : { job: values.job }) });
  io.out(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
};
