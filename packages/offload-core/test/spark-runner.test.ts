import { spawn as nodeSpawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { JobFailedError, ManualClock, parseConfig, parseMicros } from '@coldtier/offload-core';
import type { LogFields, Logger, OffloadJob, TableConfig } from '@coldtier/offload-core';
import { SparkJobRunner } from '../src/runner/spark/index.js';
import type { SparkJobRunnerOptions, SpawnFunction } from '../src/runner/spark/index.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-spark.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'coldtier-spark-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tableConfig(overrides: Record<string, unknown> = {}): TableConfig {
  const config = parseConfig({
    tables: [
      {
        source: 'k2.bronze_trades_binance',
        target: 'cold.bronze_trades_binance',
        layer: 'bronze',
        timestampColumn: 'exchange_timestamp',
        sequenceColumn: 'sequence_number',
        tieBreakerColumns: ['symbol'],
        columns: ['exchange_timestamp', 'sequence_number', 'symbol', 'price'],
        final: true,
        timeoutSeconds: 20,
        ...overrides,
      },
    ],
  });
  return config.tables[0]!;
}

function job(table: TableConfig = tableConfig()): OffloadJob {
  return {
    runId: 'run-0001',
    table,
    attempt: 1,
    window: {
      after: { timestampMicros: parseMicros('2026-01-01T00:00:00.000001Z'), sequence: 7n, tieBreakers: ['BTCUSDT'] },
      untilMicros: parseMicros('2026-01-01T00:10:00.000000Z'),
    },
  };
}

interface Line {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields | undefined;
}

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function fakeRunner(mode: string, env: Record<string, string> = {}, options: Partial<SparkJobRunnerOptions> = {}): SparkJobRunner {
  return new SparkJobRunner({
    command: [process.execPath, FAKE, '--fake-mode', mode],
    killGraceMs: 300,
    env: { PATH: process.env.PATH ?? '', ...env },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<JobFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JobFailedError);
  return error as JobFailedError;
}

/**
 * Dead, or a zombie: a grandchild orphaned by the kill is reparented to init,
 * which may reap it a little later; a zombie runs nothing, so it counts as gone.
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** SIGKILL is delivered asynchronously: poll until the kernel has ended the process. */
async function expectGone(pid: number): Promise<void> {
  await vi.waitFor(() => expect(isGone(pid)).toBe(true), { timeout: 5000, interval: 25 });
}

function readPids(file: string): { child: number; grandchild: number } {
  return JSON.parse(readFileSync(file, 'utf8')) as { child: number; grandchild: number };
}

describe('SparkJobRunner: a job that succeeds', () => {
  it('passes the window, run id and table settings as arguments and the password only in the environment', async () => {
    const calls: { program: string; args: readonly string[] }[] = [];
    const recordingSpawn: SpawnFunction = (program, args, options) => {
      calls.push({ program, args });
      return nodeSpawn(program, args, options);
    };
    const logger = recordingLogger();
    const runner = fakeRunner('success', {}, {
      spawn: recordingSpawn,
      logger,
      clickhouse: { url: 'http://clickhouse:8123', user: 'offload', password: 's3cret' },
    });

    await runner.run(job(), new AbortController().signal);

    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.join(' ')).not.toContain('s3cret');
    const received = logger.lines.find((l) => l.message.startsWith('FAKE_RECEIVED '));
    const echoed = JSON.parse(received!.message.slice('FAKE_RECEIVED '.length)) as { args: Record<string, unknown>; password: string };
    expect(echoed.password).toBe('s3cret');
    expect(echoed.args).toEqual({
      'run-id': 'run-0001',
      'source-table': 'k2.bronze_trades_binance',
      'target-table': 'cold.bronze_trades_binance',
      'timestamp-col': 'exchange_timestamp',
      'sequence-col': 'sequence_number',
      'tie-breaker-cols': 'symbol',
      layer: 'bronze',
      columns: 'exchange_timestamp,sequence_number,symbol,price',
      final: true,
      'after-timestamp': '2026-01-01T00:00:00.000001Z',
      'after-sequence': '7',
      'after-tie-breakers': '["BTCUSDT"]',
      until: '2026-01-01T00:10:00.000000Z',
      'partition-by': '[{"column":"exchange_timestamp","transform":"day"}]',
      'clickhouse-url': 'http://clickhouse:8123',
      'clickhouse-user': 'offload',
    });
  });

  it('returns the rows, cursor, bytes and snapshot of the COLDTIER_RESULT line', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:15:00Z'));
    const result = await fakeRunner('success', {}, { clock }).run(job(), new AbortController().signal);

    expect(result).toEqual({
      rowsWritten: 3,
      maxCursor: { timestampMicros: parseMicros('2026-01-01T00:10:00Z'), sequence: 42n, tieBreakers: ['zz'] },
      bytesWritten: 300,
      snapshotId: '7123456789012345678',
      timings: { startedAt: clock.now(), finishedAt: clock.now(), durationSeconds: 0 },
    });
  });

  it('logs stdout at info and stderr at debug, without repeating the result line', async () => {
    const logger = recordingLogger();
    await fakeRunner('success', {}, { logger }).run(job(), new AbortController().signal);

    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'Rows offloaded: 3' }));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'debug', message: expect.stringContaining('Job 0 finished'), fields: expect.objectContaining({ stream: 'stderr', table: 'bronze_trades_binance' }) }),
    );
    expect(logger.lines.some((l) => l.message.includes('COLDTIER_RESULT'))).toBe(false);
  });

  it("accepts the reference's `Rows offloaded: N` with a `Max cursor:` line", async () => {
    const result = await fakeRunner('legacy', { FAKE_SPARK_ROWS: '3850000' }).run(job(), new AbortController().signal);
    expect(result.rowsWritten).toBe(3_850_000);
    expect(result.maxCursor).toEqual({ timestampMicros: parseMicros('2026-01-01T00:10:00Z'), sequence: 42n, tieBreakers: ['zz'] });
    expect(result.snapshotId).toBeNull();
  });

  it('keeps a result printed before a failure during teardown, since the window was committed', async () => {
    const logger = recordingLogger();
    const result = await fakeRunner('result-then-fail', {}, { logger }).run(job(), new AbortController().signal);
    expect(result.rowsWritten).toBe(3);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('did not exit cleanly') }));
  });
});

describe('SparkJobRunner: results the watermark must not follow', () => {
  it('rejects `Rows offloaded: N` without a cursor as a process_error', async () => {
    const error = await failure(fakeRunner('legacy', { FAKE_SPARK_NO_CURSOR: '1' }).run(job(), new AbortController().signal));
    expect(error.errorType).toBe('process_error');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('cannot advance safely');
  });

  it('rejects exit code 0 without any result as a process_error', async () => {
    const error = await failure(fakeRunner('silent').run(job(), new AbortController().signal));
    expect(error.errorType).toBe('process_error');
    expect(error.message).toContain('exit code 0 without a COLDTIER_RESULT line');
  });

  it('rejects a cursor outside the window it was given', async () => {
    const cursor = JSON.stringify({ timestamp: '2026-01-01T00:10:00.000001Z', sequence: '1', tieBreakers: ['a'] });
    const error = await failure(fakeRunner('success', { FAKE_SPARK_CURSOR: cursor }).run(job(), new AbortController().signal));
    expect(error.errorType).toBe('process_error');
    expect(error.message).toContain('outside the window');
  });
});

describe('SparkJobRunner: a job that fails', () => {
  it('classifies a non-zero exit as process_error, naming the exception', async () => {
    const error = await failure(fakeRunner('fail').run(job(), new AbortController().signal));
    expect(error.errorType).toBe('process_error');
    expect(error.retryable).toBe(false);
    expect(error.table).toBe('bronze_trades_binance');
    expect(error.message).toContain('exit code 1');
    expect(error.message).toContain('AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]');
    expect((error.cause as { tail: string }).tail).toContain('Traceback (most recent call last):');
  });

  it('classifies a refused connection as retryable connection error', async () => {
    const error = await failure(fakeRunner('connection').run(job(), new AbortController().signal));
    expect(error.errorType).toBe('connection');
    expect(error.retryable).toBe(true);
  });

  it('classifies java.lang.OutOfMemoryError as a crash that is not retried', async () => {
    const error = await failure(fakeRunner('oom').run(job(), new AbortController().signal));
    expect(error.errorType).toBe('crash');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('out of memory');
  });

  it.each(['SIGKILL', 'SIGSEGV'])('classifies death by %s it did not send as a crash', async (signal) => {
    const error = await failure(fakeRunner('crash', { FAKE_SPARK_SIGNAL: signal }).run(job(), new AbortController().signal));
    expect(error.errorType).toBe('crash');
    expect(error.message).toContain(`killed by ${signal}`);
  });

  it('names the command when it cannot be found', async () => {
    const runner = new SparkJobRunner({ command: ['coldtier-no-such-spark-submit', 'job.py'], killGraceMs: 100 });
    const error = await failure(runner.run(job(), new AbortController().signal));
    expect(error.errorType).toBe('process_error');
    expect(error.message).toContain('command not found: "coldtier-no-such-spark-submit"');
  });
});

describe('SparkJobRunner: stopping a job', () => {
  it('on timeout, kills the job and its grandchild even when both ignore SIGTERM', async () => {
    const pidFile = join(dir, 'timeout.json');
    const runner = fakeRunner('hang', { FAKE_SPARK_PID_FILE: pidFile, FAKE_SPARK_IGNORE_TERM: '1' });

    const error = await failure(runner.run(job(tableConfig({ timeoutSeconds: 1.5 })), new AbortController().signal));

    expect(error.errorType).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('Offload timeout: bronze_trades_binance (>1.5 seconds)');
    expect(existsSync(pidFile)).toBe(true);
    const pids = readPids(pidFile);
    await expectGone(pids.child);
    await expectGone(pids.grandchild);
  });

  it('on abort, stops the whole group and rejects with the abort reason as cause', async () => {
    const pidFile = join(dir, 'abort.json');
    const controller = new AbortController();
    const running = fakeRunner('hang', { FAKE_SPARK_PID_FILE: pidFile }).run(job(), controller.signal);
    await vi.waitFor(() => expect(existsSync(pidFile)).toBe(true), { timeout: 10_000, interval: 20 });
    const reason = new Error('scheduler shutting down');

    controller.abort(reason);
    const error = await failure(running);

    expect(error.errorType).toBe('process_error');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Offload aborted');
    expect(error.cause).toBe(reason);
    const pids = readPids(pidFile);
    await expectGone(pids.child);
    await expectGone(pids.grandchild);
  });

  it('does not start a job whose signal is already aborted', async () => {
    const spawn = vi.fn<SpawnFunction>(nodeSpawn);
    const controller = new AbortController();
    controller.abort();
    const error = await failure(fakeRunner('success', {}, { spawn }).run(job(), controller.signal));
    expect(error.message).toContain('Offload aborted');
    expect(spawn).not.toHaveBeenCalled();
  });
});
