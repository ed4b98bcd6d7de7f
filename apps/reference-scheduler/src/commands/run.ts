import { COMMON_HELP, COMMON_OPTIONS, parse, UsageError } from '../cli/args.js';
import { EXIT, openApp, type Command } from '../cli/io.js';
import { openCycles } from '../runtime/cycle.js';

const HELP = `Usage: coldtier run --once [options]

Runs one offload cycle over every configured table and exits.
Exit code: 0 every table succeeded, 3 partial (some did), 1 failed (none did,
or an error), 2 bad arguments or config.

Options:
      --once                 required: one cycle (the scheduler is \`coldtier start\`)
      --json                 print the cycle report as JSON on stdout
${COMMON_HELP}`;

export const run: Command = async (argv, io) => {
  const { values } = parse(argv, { ...COMMON_OPTIONS, once: { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  if (!values.once) throw new UsageError('coldtier run needs --once (the long-running scheduler is `coldtier start`)');
  const app = await openApp(values, io, 'run');
  try {
    const { orchestrator } = await openCycles(app, io.env);
    // Ctrl-C must stop the job too: it runs in its own process group, which a terminal's SIGINT does not reach.
    const abort = new AbortController();
    const removeHandler = io.onStopSignal((signal) => abort.abort(new Error(`received ${signal}`)));
    const report = await orchestrator.runCycle(abort.signal).finally(removeHandler);
    if (values.json) io.out(`${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    return report.status === 'success' ? EXIT.ok : report.status === 'partial' ? EXIT.partial : EXIT.failed;
  } finally {
    await app.close();
  }
};
