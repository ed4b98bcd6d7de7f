import { isAbsolute, resolve } from 'node:path';
import { diagnose } from '../commands/diagnose.js';
import { reconcile } from '../commands/reconcile.js';
import { status } from '../commands/status.js';
import type { App } from '../runtime/app.js';
import { sendCommand, startControlServer, type ControlServer, type ForwardedResult } from '../runtime/control.js';
import { StateDirInUseError } from '../runtime/state-lock.js';
import { UsageError } from './args.js';
import type { CliIo, Command } from './io.js';
import { reportError } from './report.js';

/**
 * Commands that work while `start` holds the embedded state directory: the
 * daemon runs them on its own open engines (chdb and PGlite are bound to one
 * process each) and the asking process prints what they printed.
 */
export const BESIDE_DAEMON: Readonly<Record<string, Command>> = { status, diagnose, reconcile };

/** Long enough for `reconcile --exact` over a large range; a status answers in well under a second. */
const FORWARD_TIMEOUT_MS = 15 * 60_000;

/** The daemon side: answers forwarded commands on a socket beside the state directory and advertises it in the lock file. */
export async function serveBesideDaemon(app: App, env: NodeJS.ProcessEnv): Promise<ControlServer | undefined> {
  if (!app.layout) return undefined;
  // Before the socket: a second `start` on the same directory must not replace the first one's.
  await app.lockState();
  const server = await startControlServer(app.layout.root, async ({ argv, errIsTty }): Promise<ForwardedResult> => {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: (text) => (out += text),
      err: (text) => (err += text),
      env,
      errIsTty,
      onStopSignal: () => () => {},
      daemonApp: app,
    };
    const [name = '', ...rest] = argv;
    const command = Object.hasOwn(BESIDE_DAEMON, name) ? BESIDE_DAEMON[name] : undefined;
    if (!command) return { code: reportError(name, rest, new UsageError(`${JSON.stringify(name)} cannot run beside coldtier start; only ${Object.keys(BESIDE_DAEMON).join(', ')} can`), io), out, err };
    const code = await command(rest, io).catch((error: unknown) => reportError(name, rest, error, io));
    return { code, out, err };
  });
  try {
    await app.advertise(server.path);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/**
 * The asking side: when the state directory is held by a `start` that serves
 * commands and this is one of them, runs it there. Returns `undefined` when
 * the error is not that, for the caller to report.
 */
export async function forwardIfDaemon(name: string, argv: readonly string[], error: unknown, io: CliIo): Promise<number | undefined> {
  const control = error instanceof StateDirInUseError ? error.holder.control : undefined;
  if (control === undefined || io.daemonApp || !Object.hasOwn(BESIDE_DAEMON, name)) return undefined;
  const result = await sendCommand(control, { argv: [name, ...absoluteLogFile(argv)], errIsTty: io.errIsTty }, FORWARD_TIMEOUT_MS);
  io.err(result.err);
  io.out(result.out);
  return result.code;
}

/** The daemon has its own working directory: a relative --log-file is made this process's. */
function absoluteLogFile(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (argv[i - 1] === '--log-file' && !isAbsolute(arg)) return resolve(arg);
    const inline = /^--log-file=(.*)$/.exec(arg);
    return inline && !isAbsolute(inline[1]!) ? `--log-file=${resolve(inline[1]!)}` : arg;
  });
}
