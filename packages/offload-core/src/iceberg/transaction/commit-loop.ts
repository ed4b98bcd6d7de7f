import { systemClock, type Clock } from '../../clock.js';
import { OffloadError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import {
  CommitStateUnknownError,
  formatIdentifier,
  type Catalog,
  type CommitOptions,
  type LoadedTable,
  type TableIdentifier,
} from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';

/** How a commit retries conflicts (Iceberg's `commit.retry.*` table properties). */
export interface RetryPolicy {
  /** Retries after the first attempt (`commit.retry.num-retries`, default 4). */
  readonly retries: number;
  /** First backoff (`commit.retry.min-wait-ms`, default 100). */
  readonly minWaitMs: number;
  /** Backoff cap (`commit.retry.max-wait-ms`, default 60 000). */
  readonly maxWaitMs: number;
  /** No retry starts after this long since the first attempt (`commit.retry.total-timeout-ms`, default 30 min). */
  readonly totalTimeoutMs: number;
}

const RETRY_DEFAULTS: RetryPolicy = { retries: 4, minWaitMs: 100, maxWaitMs: 60_000, totalTimeoutMs: 30 * 60 * 1000 };
const RETRY_PROPERTIES: Readonly<Record<keyof RetryPolicy, string>> = {
  retries: 'commit.retry.num-retries',
  minWaitMs: 'commit.retry.min-wait-ms',
  maxWaitMs: 'commit.retry.max-wait-ms',
  totalTimeoutMs: 'commit.retry.total-timeout-ms',
};

/**
 * The retry policy from a table's properties, Iceberg's defaults where a
 * property is absent or not a non-negative integer; `overrides` win.
 */
export function retryPolicyOf(properties: Readonly<Record<string, string>>, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const out: Record<string, number> = {};
  for (const key of Object.keys(RETRY_DEFAULTS) as (keyof RetryPolicy)[]) {
    const raw = properties[RETRY_PROPERTIES[key]];
    const value = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : RETRY_DEFAULTS[key];
    out[key] = overrides[key] ?? value;
  }
  return out as unknown as RetryPolicy;
}

/** One attempt of a commit: where the action records the files it wrote for this attempt only. */
export interface CommitAttempt {
  /** 1 for the first attempt. */
  readonly number: number;
  /** Records a file written for this attempt; deleted if the attempt fails for sure. */
  track(location: string): void;
}

/** What an action makes of the freshly loaded table: the commit and what the caller gets back if it lands. */
export interface ActionPlan<R> {
  /** Empty when the action has nothing to change: then nothing is committed. */
  readonly updates: readonly TableUpdate[];
  readonly requirements: readonly TableRequirement[];
  readonly result: R;
  /** Passed to {@link Catalog.commitTable} for this attempt (the PostgreSQL transaction hook). */
  readonly commit?: CommitOptions;
}

/**
 * A table change in iceberg-rust's `TransactionAction` shape: it turns the
 * freshly loaded table into updates + requirements, and is re-run on every
 * attempt against the reloaded table. Files it writes once for all attempts
 * it deletes in `abandon` when the commit fails for sure.
 */
export interface CommitAction<R> {
  /** For log lines: `append`, `replace`, `expire-snapshots`, ... */
  readonly name: string;
  plan(base: LoadedTable, attempt: CommitAttempt): Promise<ActionPlan<R>>;
  /**
   * This action's own change, if the loaded table already holds it (e.g. its
   * fixed snapshot id): an earlier attempt landed though its answer was lost
   * (an unknown outcome, or a re-sent request refused as a conflict).
   */
  landed?(base: LoadedTable): R | undefined;
  abandon?(): Promise<void>;
}

export interface CommitLoopOptions {
  /** Overrides the table's `commit.retry.*` properties. */
  readonly retry?: Partial<RetryPolicy>;
  /** Injected for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface CommitLoopResult<R> {
  readonly table: LoadedTable;
  readonly result: R;
  /** Attempts made, 1 when the first commit landed. */
  readonly attempts: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one commit loop every action runs on (Iceberg's `commit.retry.*`
 * semantics): load the table, let the action plan against it, commit.
 * Retryable errors (a conflict) retry with exponential backoff within the
 * retry count and total timeout; anything else is thrown. An action with a
 * fixed identity ({@link CommitAction.landed}) is looked for on every reload,
 * so a commit whose answer was lost ends in success, never a second commit
 * (Java's `checkCommitStatus`). Files are deleted only after a proven failure:
 * never on an unknown outcome ({@link CommitStateUnknownError}), and after a
 * conflict only once a reload shows the attempt did not land.
 *
 * Hand-written rather than p-retry: every attempt must reload the table and
 * clean its own files, and tests inject the sleep and the clock.
 */
export async function runCommitLoop<R>(
  catalog: Catalog,
  identifier: TableIdentifier,
  action: CommitAction<R>,
  options: CommitLoopOptions = {},
): Promise<CommitLoopResult<R>> {
  const name = formatIdentifier(identifier);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? defaultSleep;
  const logger = options.logger ?? silentLogger;
  const startedMs = clock.now().getTime();
  let abandon = true;
  // Files of a rejected attempt, kept until a reload proves that attempt did not land.
  let unproven: string[] = [];
  const success = (table: LoadedTable, result: R, attempts: number, how: string): CommitLoopResult<R> => {
    abandon = false;
    logger.info(`iceberg ${action.name} ${how}`, { table: name, attempt: attempts });
    return { table, result, attempts };
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const base = await catalog.loadTable(identifier);
      const own = action.landed?.(base);
      if (own !== undefined) return success(base, own, attempt - 1, 'found its own earlier commit');
      await deleteAll(catalog.io, unproven);
      unproven = [];
      const retry = retryPolicyOf(base.metadata.properties, options.retry);
      const written: string[] = [];
      try {
        const plan = await action.plan(base, { number: attempt, track: (l) => written.push(l) });
        if (plan.updates.length === 0) {
          // Nothing to change: no new metadata version for a no-op.
          abandon = false;
          return { table: base, result: plan.result, attempts: attempt };
        }
        const table = await catalog.commitTable(identifier, plan.requirements, plan.updates, plan.commit);
        return success(table, plan.result, attempt, 'committed');
      } catch (error) {
        if (error instanceof CommitStateUnknownError) {
          const resolved = await findLanded(catalog, identifier, action);
          if (resolved) return success(resolved.table, resolved.result, attempt, 'outcome was unknown; its commit landed');
          // Not visible is no proof of failure: orphans are harmless, dangling references are not.
          abandon = false;
          throw error;
        }
        if (!isRetryable(error)) {
          // Failed before the commit, or refused outright: nothing references these files.
          await deleteAll(catalog.io, written);
          throw error;
        }
        const elapsed = clock.now().getTime() - startedMs;
        if (attempt > retry.retries || elapsed >= retry.totalTimeoutMs) {
          const resolved = await findLanded(catalog, identifier, action);
          if (resolved) return success(resolved.table, resolved.result, attempt, 'found its own earlier commit');
          await deleteAll(catalog.io, written);
          throw error;
        }
        unproven = written;
        const wait = Math.min(retry.maxWaitMs, retry.minWaitMs * 2 ** (attempt - 1), retry.totalTimeoutMs - elapsed);
        logger.warn(`iceberg ${action.name} conflict, retrying`, { table: name, attempt, waitMs: wait, error: (error as Error).message });
        await sleep(wait);
      }
    }
  } finally {
    // A rejected attempt that no reload could check may be live: keep what it references.
    if (abandon && unproven.length === 0) await action.abandon?.();
  }
}

/** Reloads the table and looks for the action's own change; a failed reload proves nothing. */
async function findLanded<R>(catalog: Catalog, identifier: TableIdentifier, action: CommitAction<R>): Promise<{ table: LoadedTable; result: R } | undefined> {
  if (!action.landed) return undefined;
  try {
    const table = await catalog.loadTable(identifier);
    const result = action.landed(table);
    return result === undefined ? undefined : { table, result };
  } catch {
    return undefined;
  }
}

function isRetryable(error: unknown): boolean {
  return error instanceof OffloadError && error.retryable;
}

/** Deletes files best effort: a file left behind is an orphan the cleanup finds later. */
export async function deleteAll(io: FileIO, locations: readonly string[]): Promise<void> {
  await Promise.all(locations.map((l) => io.delete(l).catch(() => undefined)));
}
