import {
  generateMaintenanceDashboard,
  generateMaintenanceRules,
  renderGrafanaDashboard,
  renderMaintenanceRules,
  renderPrometheusRuleResource,
  renderPrometheusRules,
} from '@coldtier/offload-diagnostics';
import { COMMON_HELP, COMMON_OPTIONS, parse, UsageError } from '../cli/args.js';
import { openApp, type Command } from '../cli/io.js';

const RULES_HELP = `Usage: coldtier rules [options] > iceberg-offload-rules.yml

Prints the Prometheus recording and alerting rules (the reference's alert
names; thresholds for the configured schedule with the config file's
\`thresholds\` overrides, per table where given) as a rule file.

Options:
      --job NAME             Prometheus job scraping the scheduler (default iceberg-scheduler)
      --runbook-base-url U   where runbook_url annotations point (default docs/runbooks)
      --kubernetes           print a PrometheusRule resource (monitoring.coreos.com/v1)
                             instead, with the table maintenance alerts in it too
      --namespace NS         with --kubernetes: its metadata.namespace
      --maintenance          the table maintenance alerts instead (a second rule
                             file; windows from maintenance.intervalHours)
${COMMON_HELP}`;

const DASHBOARD_HELP = `Usage: coldtier dashboard [options] > iceberg-offload.json

Prints the Grafana dashboard "Iceberg Offload Pipeline" (uid iceberg-offload)
as JSON, coloured by the same thresholds as \`coldtier rules\`, ready to import.

Options:
      --job NAME             Prometheus job scraping the scheduler (default iceberg-scheduler)
      --maintenance          the "Iceberg Table Maintenance" dashboard (uid iceberg-maintenance) instead
${COMMON_HELP}`;

export const rules: Command = async (argv, io) => {
  const { values } = parse(argv, {
    ...COMMON_OPTIONS,
    job: { type: 'string' },
    'runbook-base-url': { type: 'string' },
    kubernetes: { type: 'boolean' },
    namespace: { type: 'string' },
    maintenance: { type: 'boolean' },
  });
  if (values.help) {
    io.out(`${RULES_HELP}\n`);
    return 0;
  }
  if (values.namespace !== undefined && values.kubernetes !== true) throw new UsageError('--namespace needs --kubernetes');
  if (values.maintenance === true && values.kubernetes === true) {
    throw new UsageError('--kubernetes already includes the maintenance alerts; drop --maintenance');
  }
  const app = await openApp(values, io, 'rules');
  const common = {
    ...(values.job === undefined ? {} : { job: values.job }),
    ...(values['runbook-base-url'] === undefined ? {} : { runbookBaseUrl: values['runbook-base-url'] }),
  };
  const maintenance = { intervalHours: app.config.maintenance.intervalHours, ...common };
  if (values.maintenance) {
    io.out(renderMaintenanceRules(maintenance));
    return 0;
  }
  const options = { thresholds: app.thresholds, ...common };
  io.out(
    values.kubernetes === true
      ? renderPrometheusRuleResource({
          ...options,
          ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
          additionalGroups: generateMaintenanceRules(maintenance).groups,
        })
      : renderPrometheusRules(options),
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
  const text = renderGrafanaDashboard({ thresholds: app.thresholds, ...(values.job === undefined ? {} : { job: values.job }) });
  io.out(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
};
