import { ConfigError, messageOf, OffloadError } from '@coldtier/offload-core';
import { UsageError } from './args.js';
import { EXIT, type CliIo } from './io.js';

/** One line for the terminal; a config error's issues are joined onto it. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) {
    const head = error.message.split('\n')[0]!.replace(/:$/, '');
    return `${head}: ${error.issues.map((i) => `${i.path || '(root)'}: ${i.message.replace(/\s*\n\s*/g, ' ')}`).join('; ')}`;
  }
  return messageOf(error).replace(/\s*\n\s*/g, ' ');
}

function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof ConfigError || (error instanceof OffloadError && error.kind === 'config') ? EXIT.usage : EXIT.failed;
}

/** Reports a command's error as one line on `err` (a stack trace with --verbose) and returns its exit code. */
export function reportError(name: string, argv: readonly string[], error: unknown, io: Pick<CliIo, 'err'>): number {
  io.err(`coldtier ${name}: ${describe(error)}\n`);
  if (argv.includes('--verbose') || argv.includes('-v')) io.err(`${(error as Error).stack ?? String(error)}\n`);
  return exitCodeOf(error);
}
