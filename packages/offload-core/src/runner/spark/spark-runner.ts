import { spawn as nodeSpawn } from 'node:child_process';
import { systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { ConfigError } from '../../errors.js';
import type { ConfigIssue } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { Logger } from '../../logger.js';
import { classifyJobExit } from '../classify.js';
import { classifyEmbeddedFailure } from '../embedded/classify.js';
import type { JobResult, JobRunner, OffloadJob } from '../contract.js';
import type { TableConfig } from '../../config/index.js';
import type { Cursor } from '../../watermark/cursor.js';
import { buildJobArgs, secretEnv } from './args.js';
import type { ClickHouseHttpSettings, IcebergCatalogSettings, JobConnections } from './args.js';
import { committedSparkWatermark, prepareSparkTarget } from './prepare.js';
import type { SparkTarget } from './prepare.js';
import { OutputTail } from './output.js';
import { runProcessGroup } from './process-group.js';
import type { OutputStream, SpawnFunction } from './process-group.js';
import { checkReportedResult, ResultCollector } from './result.js';

export interface SparkJobRunnerOptions {
  /**
   * Argument prefix the job arguments are appended to, e.g.
   * `["spark-submit", "--master", "local[2]", "--jars", "...", "spark/offload_job.py"]` or
   * `["docker", "exec", "-e", "COLDTIER_CLICKHOUSE_PASSWORD", "k2-spark-iceberg", "python3", "offload_job.py"]`.
   */
  readonly command: readonly string[];
  /** Between SIGTERM and SIGKILL when a job is stopped. */
  readonly killGraceMs: number;
  /** The job's environment; defaults to this process's. Passwords from `clickhouse`/`catalog` are added to it. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly clickhouse?: ClickHouseHttpSettings | undefined;
  readonly catalog?: IcebergCatalogSettings | undefined;
  /**
   * The source and catalog Coldtier reaches itself: given, the runner creates
   * or evolves the target table before the launch with the embedded runner's
   * own code (same types, required fields, partition spec and properties) and
   * hands the job the typed SELECT, so a table can switch runners.
   */
  readonly target?: SparkTarget | undefined;
  readonly logger?: Logger | undefined;
  readonly clock?: Clock | undefined;
  readonly spawn?: SpawnFunction | undefined;
  /** Characters of output kept for failure messages (default 64 KiB). */
  readonly tailBytes?: number | undefined;
  /** Lines of output kept for failure messages (default 200). */
  readonly tailLines?: number | undefined;
}

const DEFAULT_TAIL_BYTES = 64 * 1024;
const DEFAULT_TAIL_LINES = 200;

/**
 * Runs each offload as an external Spark job (see `spark/offload_job.py` and
 * its README for the contract): job arguments on the command line, passwords
 * in the environment, the outcome in a `COLDTIER_RESULT {json}` line on stdout.
 *
 * Failures reject with `JobFailedError`, classified by `classifyJobExit`. A
 * job that printed a valid result has committed, so the result is returned
 * even if the job then failed, timed out or was aborted during teardown
 * (logged as a warning): failing it would offload the window twice.
 * Abort: the job's process group is stopped like on timeout and the run
 * rejects with `JobFailedError('process_error', retryable: false)` whose
 * `cause` is `signal.reason` — once the group is gone, at most `killGraceMs`
 * after the abort. A job that finished before the abort was noticed still
 * resolves: it may have committed, and its result must reach the watermark.
 */
export class SparkJobRunner implements JobRunner {
  readonly #command: readonly string[];
  readonly #killGraceMs: number;
  readonly #env: Readonly<Record<string, string | undefined>> | undefined;
  readonly #connections: JobConnections;
  readonly #target: SparkTarget | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #spawn: SpawnFunction;
  readonly #tailBytes: number;
  readonly #tailLines: number;

  constructor(options: SparkJobRunnerOptions) {
    const issues = validateOptions(options);
    if (issues.length > 0) throw new ConfigError(issues, { source: 'SparkJobRunner options' });
    this.#command = [...options.command];
    this.#killGraceMs = options.killGraceMs;
    this.#env = options.env;
    this.#connections = { clickhouse: options.clickhouse, catalog: options.catalog };
    this.#target = options.target;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#spawn = options.spawn ?? nodeSpawn;
    this.#tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
    this.#tailLines = options.tailLines ?? DEFAULT_TAIL_LINES;
  }

  /**
   * The table's own record of what its source committed (the job writes the
   * embedded runner's `coldtier.*` summary), for the orchestrator's recovery;
   * `null` without a `target`, where Coldtier cannot reach the catalog.
   */
  async committedWatermark(table: TableConfig, signal: AbortSignal): Promise<Cursor | null> {
    const target = this.#target;
    if (!target) return null;
    // Coldtier's own catalog and ClickHouse calls fail as the embedded runner's do.
    return committedSparkWatermark(target, table, signal).catch((error: unknown) => {
      throw classifyEmbeddedFailure(table.name, error, signal);
    });
  }

  async run(job: OffloadJob, signal: AbortSignal): Promise<JobResult> {
    const { table } = job;
    const [program, ...prefix] = this.#command as [string, ...string[]];
    const context = { table: table.name, program, timeoutSeconds: table.timeoutSeconds };
    if (signal.aborted) {
      throw classifyJobExit({ exitCode: null, signal: null, stoppedBy: 'abort', spawnError: null, tail: '' }, context, signal.reason);
    }

    const startedAt = this.#clock.now();
    const tail = new OutputTail(this.#tailBytes, this.#tailLines);
    const collector = new ResultCollector();
    const fields = { table: table.name, runId: job.runId, attempt: job.attempt };
    const onLine = (stream: OutputStream, line: string): void => {
      tail.push(line);
      if (stream === 'stdout' && collector.accept(line)) return;
      if (stream === 'stdout') this.#logger.info(line, { ...fields, stream });
      else this.#logger.debug(line, { ...fields, stream });
    };

    const prepared = this.#target
      ? await prepareSparkTarget(this.#target, table, this.#logger, signal).catch((error: unknown) => {
          throw classifyEmbeddedFailure(table.name, error, signal);
        })
      : undefined;
    this.#logger.info(`Starting Spark job: ${table.name}`, { ...fields, command: this.#command });
    const outcome = await runProcessGroup({
      program,
      args: [...prefix, ...buildJobArgs(job, this.#connections, prepared)],
      env: { ...(this.#env ?? process.env), ...secretEnv(this.#connections) },
      spawn: this.#spawn,
      timeoutMs: table.timeoutSeconds * 1000,
      killGraceMs: this.#killGraceMs,
      signal,
      onLine,
    });
    const finishedAt = this.#clock.now();

    const reported = collector.parse(table.name);
    if (reported === null) throw classifyJobExit({ ...outcome, tail: tail.text() }, context, signal.reason);
    checkReportedResult(job, reported);
    if (outcome.stoppedBy !== null || outcome.exitCode !== 0) {
      // The result line comes after the commit; failing now would offload the window twice.
      this.#logger.warn(`Spark job reported its result but did not exit cleanly: ${table.name}`, { ...fields, ...outcome });
    }
    return {
      rowsWritten: reported.rows,
      maxCursor: reported.maxCursor,
      bytesWritten: reported.bytes,
      snapshotId: reported.snapshotId,
      timings: { startedAt, finishedAt, durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000 },
    };
  }
}

function validateOptions(options: SparkJobRunnerOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.command.length === 0 || options.command[0] === '') {
    issues.push({ path: 'command', message: 'give the command to run, e.g. ["spark-submit", "offload_job.py"]' });
  }
  if (!Number.isFinite(options.killGraceMs) || options.killGraceMs < 0) {
    issues.push({ path: 'killGraceMs', message: `expected a number of milliseconds >= 0, got ${options.killGraceMs}` });
  }
  for (const key of ['tailBytes', 'tailLines'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      issues.push({ path: key, message: `expected a positive integer, got ${value}` });
    }
  }
  if (options.clickhouse && /[?&;]password=|\/\/[^/@]*:[^/@]*@/i.test(options.clickhouse.url)) {
    issues.push({ path: 'clickhouse.url', message: 'must not contain a password; pass it as clickhouse.password (sent in the environment)' });
  } else if (options.clickhouse && !/^https?:\/\//.test(options.clickhouse.url)) {
    issues.push({ path: 'clickhouse.url', message: `expected ClickHouse's HTTP interface (http://host:8123), got ${options.clickhouse.url}` });
  }
  return issues;
}
