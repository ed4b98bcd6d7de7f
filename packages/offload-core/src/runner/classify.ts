import { JobFailedError } from '../errors.js';

/**
 * How an external job process ended, as far as the runner saw it. Pure data, so
 * the mapping to an error type is a table-driven unit test, not a process test.
 */
export interface JobExit {
  /** Exit status, or `null` when the process was ended by a signal or never started. */
  readonly exitCode: number | null;
  /** Signal that ended the process, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** Set when the runner itself stopped the job: it decides the type, whatever the exit says. */
  readonly stoppedBy: 'timeout' | 'abort' | null;
  /** The error `spawn` reported when the command could not be started. */
  readonly spawnError: NodeJS.ErrnoException | null;
  /** The last lines the job printed (stdout and stderr interleaved). */
  readonly tail: string;
}

/** Facts about the job the messages need. */
export interface JobExitContext {
  readonly table: string;
  /** The program the runner launched (first word of the command), named in spawn errors. */
  readonly program: string;
  /** The time limit, for the timeout message. */
  readonly timeoutSeconds: number;
}

/** What a classified failure carries as `cause`, so logs and run history can show the output. */
export interface JobExitDetails {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly tail: string;
}

/**
 * Output that means the job could not reach ClickHouse, the catalog or its
 * storage; such failures are worth retrying. Matched against the tail only when
 * the job exited non-zero.
 */
export const CONNECTION_PATTERNS: readonly RegExp[] = [
  /Connection refused/i,
  /ECONNREFUSED/,
  /UnknownHostException/,
  /Name or service not known/i,
  /Temporary failure in name resolution/i,
  /Communications link failure/i,
  /timed out connecting/i,
  /connect timed out/i,
  /No route to host/i,
];

/** Out of memory is a crash, and retrying the same window with the same memory would fail again. */
export const OUT_OF_MEMORY_PATTERNS: readonly RegExp[] = [/java\.lang\.OutOfMemoryError/, /\bMemoryError\b/];

/** How long a tail excerpt in a message may be; run history truncates messages at 1000 characters. */
const HEADLINE_CHARS = 300;

/**
 * Maps a job's end to a classified `JobFailedError`. Call it for every end
 * that did not produce a valid result, including exit code 0 without one.
 *
 * Order matters: what the runner did (timeout, abort) wins over what the
 * process said; out-of-memory wins over the signal or exit code it caused; a
 * signal we did not send is a crash; connection patterns only rescue a
 * non-zero exit. An abort carries `abortReason` (the signal's reason) as its
 * cause, so the caller can tell its own shutdown from a failure.
 */
export function classifyJobExit(exit: JobExit, context: JobExitContext, abortReason?: unknown): JobFailedError {
  const { table } = context;
  const cause: JobExitDetails = { exitCode: exit.exitCode, signal: exit.signal, tail: exit.tail };

  if (exit.spawnError) {
    const code = exit.spawnError.code ?? 'unknown error';
    const reason =
      code === 'ENOENT'
        ? `command not found: ${JSON.stringify(context.program)} (is it installed and on PATH?)`
        : code === 'EACCES'
          ? `command not executable: ${JSON.stringify(context.program)}`
          : `could not start ${JSON.stringify(context.program)}: ${exit.spawnError.message}`;
    return new JobFailedError(table, 'process_error', `Offload failed: ${table}: ${reason}`, { retryable: false, cause: exit.spawnError });
  }
  if (exit.stoppedBy === 'timeout') {
    return new JobFailedError(table, 'timeout', `Offload timeout: ${table} (>${formatLimit(context.timeoutSeconds)})`, { retryable: true, cause });
  }
  if (exit.stoppedBy === 'abort') {
    return new JobFailedError(table, 'process_error', `Offload aborted: ${table} (job stopped)`, { retryable: false, cause: abortReason ?? cause });
  }
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? 'unknown'}`;
  const detail = headline(exit.tail);
  const suffix = detail ? `: ${detail}` : '';

  if (matchesAny(exit.tail, OUT_OF_MEMORY_PATTERNS)) {
    return new JobFailedError(table, 'crash', `Offload crashed: ${table} (out of memory, ${how})${suffix}`, { retryable: false, cause });
  }
  if (exit.signal) {
    return new JobFailedError(table, 'crash', `Offload crashed: ${table} (${how})${suffix}`, { retryable: false, cause });
  }
  if (exit.exitCode === 0) {
    return new JobFailedError(table, 'process_error', `Offload failed: ${table} (exit code 0 without a COLDTIER_RESULT line)${suffix}`, {
      retryable: false,
      cause,
    });
  }
  if (matchesAny(exit.tail, CONNECTION_PATTERNS)) {
    return new JobFailedError(table, 'connection', `Offload failed: ${table} (connection error, ${how})${suffix}`, { retryable: true, cause });
  }
  return new JobFailedError(table, 'process_error', `Offload failed: ${table} (${how})${suffix}`, { retryable: false, cause });
}

/** `600` → `10 minutes`, `0.5` → `0.5 seconds`, as in the reference's `(>10 minutes)`. */
export function formatLimit(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) {
    const minutes = seconds / 60;
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/**
 * The line of the tail that best names the failure: the last line that looks
 * like an exception (Python tracebacks end with it, Java traces start with it
 * and continue with `at ...` frames), else the last non-blank line.
 */
export function headline(tail: string): string {
  const lines = tail
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const exception = lines.findLast((line) => !line.startsWith('at ') && /(Error|Exception)\b/.test(line));
  const chosen = exception ?? lines.at(-1) ?? '';
  return chosen.length > HEADLINE_CHARS ? `${chosen.slice(0, HEADLINE_CHARS - 1)}…` : chosen;
}

function matchesAny(text: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((pattern) => pattern.test(text));
}
