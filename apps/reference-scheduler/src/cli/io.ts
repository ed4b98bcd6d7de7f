import { COMMON_OPTIONS } from './args.js';
import { App } from '../runtime/app.js';
import { createAppLogger } from '../runtime/logging.js';

/** What a command may touch of the process; `cli.ts` binds it to the real one, tests may bind it otherwise. */
export interface CliIo {
  /** Command output (status tables, JSON, rules). */
  readonly out: (text: string) => void;
  /** Log lines and progress. */
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Whether `err` is a terminal (progress bars instead of lines). */
  readonly errIsTty: boolean;
  /** Calls `handler` on SIGTERM/SIGINT; returns the remover. Only `start` installs one. */
  readonly onStopSignal: (handler: (signal: string) => void) => () => void;
  /** Sends the process's warnings (Node's, a library's) to `handler` instead of stderr as free text. */
  readonly onProcessWarning?: (handler: (warning: Error) => void) => void;
  /**
   * Set when a running `start` runs a command another process forwarded to
   * it: the command uses the daemon's open setup instead of opening its own.
   */
  readonly daemonApp?: App;
}

/** A command: parses its arguments, does its work and returns the exit code. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Exit codes, documented in the README and `coldtier --help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;

interface CommonValues {
  readonly config?: string | undefined;
  readonly 'state-dir'?: string | undefined;
  readonly 'log-format'?: string | undefined;
  readonly 'log-file'?: string | undefined;
  readonly verbose?: boolean | undefined;
}

export type { CommonValues };
export { COMMON_OPTIONS };

/** The logger and setup every pipeline command starts from. */
export async function openApp(values: CommonValues, io: CliIo, command: string, intervalSeconds?: number): Promise<App> {
  const logger = createAppLogger({ format: values['log-format'], file: values['log-file'], verbose: values.verbose === true, write: (line) => io.err(`${line}\n`) });
  io.onProcessWarning?.((warning) => logger.warn('process warning', { name: warning.name, warning: warning.message }));
  if (io.daemonApp) return io.daemonApp.borrow(logger, command);
  return App.load({ config: values.config, stateDir: values['state-dir'], intervalSeconds, command }, logger, io.env);
}
