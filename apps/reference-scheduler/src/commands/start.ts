import { COMMON_HELP, COMMON_OPTIONS, parse, parsePort, parsePositive } from '../cli/args.js';
import { serveBesideDaemon } from '../cli/beside-daemon.js';
import { openApp, type Command } from '../cli/io.js';
import { runDaemon } from '../runtime/daemon.js';
import { assertPortFree } from '../runtime/port.js';

const HELP = `Usage: coldtier start [options]

Runs the offload scheduler: a first cycle now, then one at every wall-clock
multiple of the interval (14:07 -> 14:15 -> 14:30), never two at once. Serves
/metrics, /healthz and /status. SIGTERM/SIGINT: no new cycles, running tables
get the grace period, then are aborted; a second signal aborts at once.

Without --config: the embedded single-machine setup under --state-dir
(ClickHouse with a live trade generator, PostgreSQL, a local Iceberg warehouse).

Options:
      --port N               metrics/status port (default 8000; 0 picks a free one)
      --host ADDR            interface to listen on (default: all)
      --interval-seconds N   cycle interval instead of scheduleMinutes (for trying it out;
                             the embedded setup's late-data buffer becomes a third of it)
      --grace-seconds N      time running tables get to finish on stop (default 60)
${COMMON_HELP}`;

export const start: Command = async (argv, io) => {
  const { values } = parse(argv, {
    ...COMMON_OPTIONS,
    port: { type: 'string' },
    host: { type: 'string' },
    'interval-seconds': { type: 'string' },
    'grace-seconds': { type: 'string' },
  });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const intervalSeconds = values['interval-seconds'] === undefined ? undefined : parsePositive('interval-seconds', values['interval-seconds'], 0, 24 * 60 * 60);
  const port = parsePort(values.port, 8000);
  const graceMs = parsePositive('grace-seconds', values['grace-seconds'], 60, 3600) * 1000;
  await assertPortFree(port, values.host);
  const app = await openApp(values, io, 'start', intervalSeconds);
  try {
    const control = await serveBesideDaemon(app, io.env);
    try {
      return await runDaemon(app, { port, host: values.host, graceMs, historySize: 20, env: io.env, onStopSignal: io.onStopSignal });
    } finally {
      await control?.close();
    }
  } finally {
    await app.close();
  }
};
