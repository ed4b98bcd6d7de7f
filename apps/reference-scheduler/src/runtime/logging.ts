import { appendFileSync } from 'node:fs';
import { messageOf } from '@coldtier/offload-core';
import { createLineLogger, type Logger } from '@coldtier/offload-core';
import { UsageError } from '../cli/args.js';

export type LogFormat = 'human' | 'json';

export interface AppLoggerOptions {
  readonly format: string | undefined;
  /** Appended to, like the reference's /tmp/iceberg-offload-scheduler.log. */
  readonly file: string | undefined;
  readonly verbose: boolean;
  /** Where lines go besides the file; stderr, so stdout stays for command output. */
  readonly write: (line: string) => void;
}

export function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined || text === 'human' || text === 'json') return text ?? 'human';
  throw new UsageError(`invalid --log-format ${JSON.stringify(text)}: expected human or json`);
}

/**
 * Lines are appended to the file synchronously: a scheduler writes a few
 * dozen lines per cycle, and a line written before a crash or a SIGKILL is
 * on disk.
 */
export function createAppLogger(options: AppLoggerOptions): Logger {
  const format = parseLogFormat(options.format);
  const { file, write } = options;
  if (file !== undefined) {
    // Opened once up front: a path that cannot be written is a bad argument, not a failure halfway through a cycle.
    try {
      appendFileSync(file, '');
    } catch (cause) {
      throw new UsageError(`invalid --log-file ${JSON.stringify(file)}: ${messageOf(cause)}`, { cause });
    }
  }
  return createLineLogger({
    format,
    level: options.verbose ? 'debug' : 'info',
    write: (line) => {
      write(line);
      if (file !== undefined) appendFileSync(file, `${line}\n`);
    },
  });
}
