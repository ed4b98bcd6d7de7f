import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineSplitter } from './output.js';

/** `node:child_process` `spawn`, or a stand-in with the same shape. */
export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export type OutputStream = 'stdout' | 'stderr';

export interface ProcessGroupOptions {
  readonly program: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly spawn: SpawnFunction;
  /** After this long the group is stopped and the outcome says `stoppedBy: 'timeout'`. */
  readonly timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  readonly signal: AbortSignal;
  readonly onLine: (stream: OutputStream, line: string) => void;
}

export interface ProcessGroupOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stoppedBy: 'timeout' | 'abort' | null;
  readonly spawnError: NodeJS.ErrnoException | null;
}

/**
 * Runs a command as the leader of its own process group and resolves (never
 * rejects) once it has ended and its output has been read.
 *
 * The job is a tree (spark-submit → JVM → Python workers), so it is stopped by
 * signalling the whole group: SIGTERM, then SIGKILL after the grace period.
 * When the runner stopped it (timeout, abort), the promise settles only once
 * the group is gone or has been sent SIGKILL, so a retry never overlaps the
 * attempt it replaces. A leader that exits by itself has its leftover group
 * members swept the same way, in the background.
 */
export function runProcessGroup(options: ProcessGroupOptions): Promise<ProcessGroupOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = options.spawn(options.program, options.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: options.env });
    } catch (error) {
      resolve({ exitCode: null, signal: null, stoppedBy: null, spawnError: error as NodeJS.ErrnoException });
      return;
    }

    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let stoppedBy: ProcessGroupOutcome['stoppedBy'] = null;
    let terminating = false;
    let killSent = false;
    let closed = false;
    let settled = false;

    const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
      if (child.pid === undefined) return false;
      try {
        process.kill(-child.pid, signal);
        return true;
      } catch (error) {
        // EPERM: the group exists but is not ours to signal; ESRCH: it is gone.
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    };

    const finish = (spawnError: NodeJS.ErrnoException | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      // A sweep already under way stays armed: leftover group members still get their SIGKILL.
      options.signal.removeEventListener('abort', onAbort);
      resolve({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, stoppedBy, spawnError });
    };

    const tryFinish = (): void => {
      if (!closed) return;
      if (stoppedBy !== null && !killSent && signalGroup(0)) return;
      finish(null);
    };

    const terminate = (): void => {
      if (terminating) return;
      terminating = true;
      signalGroup('SIGTERM');
      setTimeout(() => {
        signalGroup('SIGKILL');
        killSent = true;
        tryFinish();
        // A member that left the group can hold our pipes open forever; stop reading once the leader is gone.
        setTimeout(() => exit !== null && destroyStreams(child), Math.max(options.killGraceMs, 1000));
      }, options.killGraceMs);
    };

    const stop = (reason: 'timeout' | 'abort'): void => {
      if (exit !== null || settled) return;
      stoppedBy ??= reason;
      terminate();
    };
    const onAbort = (): void => stop('abort');
    const timeoutTimer = setTimeout(() => stop('timeout'), options.timeoutMs);
    options.signal.addEventListener('abort', onAbort, { once: true });

    readLines(child.stdout, 'stdout', options.onLine);
    readLines(child.stderr, 'stderr', options.onLine);

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(error);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      clearTimeout(timeoutTimer);
      if (signalGroup(0)) terminate();
    });
    child.on('close', () => {
      closed = true;
      tryFinish();
    });
  });
}

function readLines(stream: Readable | null, name: OutputStream, onLine: (stream: OutputStream, line: string) => void): void {
  if (!stream) return;
  const splitter = new LineSplitter((line) => onLine(name, line));
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => splitter.write(chunk));
  stream.on('end', () => splitter.end());
  // Read errors end the stream; the exit status still decides the outcome.
  stream.on('error', () => splitter.end());
}

function destroyStreams(child: ChildProcess): void {
  child.stdout?.destroy();
  child.stderr?.destroy();
}
