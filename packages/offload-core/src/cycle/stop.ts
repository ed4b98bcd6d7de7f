import { JobFailedError } from '../errors.js';

/**
 * Why the orchestrator stopped work it had started or queued:
 * - `deadline`: the cycle deadline passed;
 * - `aborted`: the caller's signal aborted (shutdown);
 * - `timeout`: the table's `timeoutSeconds` budget ran out;
 * - `lease_lost`: another owner took the table's lease over.
 */
export type StopKind = 'deadline' | 'aborted' | 'timeout' | 'lease_lost';

/** The abort reason the orchestrator puts on the signals it controls. */
export class CycleStop extends Error {
  readonly kind: StopKind;
  constructor(kind: StopKind, message: string) {
    super(message);
    this.name = 'CycleStop';
    this.kind = kind;
  }
}

/** The stop behind an aborted signal; a foreign reason counts as `aborted`. */
export function stopOf(signal: AbortSignal): CycleStop | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  return reason instanceof CycleStop ? reason : new CycleStop('aborted', `aborted: ${String(reason)}`);
}

/**
 * The failure of an attempt the orchestrator stopped. Deadline, abort and
 * timeout are all `timeout` failures (the job was killed for time, as the
 * reference classified it) and never retried; a lost lease is a `crash`.
 */
export function stoppedFailure(table: string, stop: CycleStop, cause: unknown): JobFailedError {
  return new JobFailedError(table, stop.kind === 'lease_lost' ? 'crash' : 'timeout', stop.message, { retryable: false, cause });
}

/** Aborts `target` with `source`'s reason when `source` aborts; returns the unlink function. */
export function follow(source: AbortSignal, target: AbortController): () => void {
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  const onAbort = () => target.abort(source.reason);
  source.addEventListener('abort', onAbort, { once: true });
  return () => source.removeEventListener('abort', onAbort);
}
