import { describe, expect, it } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { TableConfig } from '../src/config/index.js';
import { JobFailedError } from '../src/errors.js';
import type { OffloadJob } from '../src/runner/contract.js';
import { InMemorySource, ScriptedJobRunner, createGate } from '../src/testing/scripted-runner.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';
import type { OffloadWindow } from '../src/watermark/window.js';

function table(name: string): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' });
  return { ...parsed, name, partitionBy: [] };
}

const at = (ts: number, sequence: number): Cursor => ({ timestampMicros: BigInt(ts), sequence: BigInt(sequence), tieBreakers: [] });
const window = (after: Cursor, untilMicros: number): OffloadWindow => ({ after, untilMicros: BigInt(untilMicros) });
const job = (name: string, w: OffloadWindow = window(INITIAL_CURSOR, 1_000), attempt = 1): OffloadJob => ({ runId: `run-${attempt}`, table: table(name), window: w, attempt });
const live = () => new AbortController().signal;

describe('ScriptedJobRunner', () => {
  it('plays each table its own script, one final step per attempt, and records every job', async () => {
    const runner = new ScriptedJobRunner({
      scripts: {
        a: [{ kind: 'fail', errorType: 'connection' }, { kind: 'succeed', rows: 7, maxCursor: at(5, 1), snapshotId: '42' }],
        b: [{ kind: 'fail', errorType: 'process_error', retryable: true, message: 'boom' }],
      },
    });
    const failure = await runner.run(job('a'), live()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect(failure).toMatchObject({ errorType: 'connection', retryable: true, table: 'a' });
    await expect(runner.run(job('b'), live())).rejects.toMatchObject({ errorType: 'process_error', retryable: true, message: 'boom' });
    await expect(runner.run(job('a', undefined, 2), live())).resolves.toMatchObject({ rowsWritten: 7, maxCursor: at(5, 1), snapshotId: '42' });
    expect(runner.jobs.map((j) => [j.table, j.attempt, j.outcome])).toEqual([
      ['a', 1, 'failed'],
      ['b', 1, 'failed'],
      ['a', 2, 'succeeded'],
    ]);
  });

  it('fails as a crash when a script runs out and there is no fallback', async () => {
    const runner = new ScriptedJobRunner();
    await expect(runner.run(job('a'), live())).rejects.toMatchObject({ errorType: 'crash', message: 'no script step left for table a' });
  });

  it('replays the fallback steps for every attempt after the script', async () => {
    const runner = new ScriptedJobRunner({ otherwise: [{ kind: 'delay', ms: 1 }, { kind: 'succeed', rows: 1 }] });
    await expect(runner.run(job('a'), live())).resolves.toMatchObject({ rowsWritten: 1 });
    await expect(runner.run(job('a'), live())).resolves.toMatchObject({ rowsWritten: 1 });
  });

  it('waits at a gate until it opens', async () => {
    const gate = createGate();
    const runner = new ScriptedJobRunner({ scripts: { a: [{ kind: 'wait', until: gate.opened }, { kind: 'succeed', rows: 2 }] } });
    const running = runner.run(job('a'), live());
    await Promise.resolve();
    expect(runner.jobs[0]?.outcome).toBe('running');
    gate.open();
    await expect(running).resolves.toMatchObject({ rowsWritten: 2 });
  });

  it('rejects a hanging job promptly when its signal aborts', async () => {
    const runner = new ScriptedJobRunner({ scripts: { a: [{ kind: 'hang' }] } });
    const controller = new AbortController();
    const running = runner.run(job('a'), controller.signal);
    controller.abort(new Error('deadline'));
    await expect(running).rejects.toMatchObject({ errorType: 'timeout', retryable: false });
    expect(runner.jobs[0]?.outcome).toBe('aborted');
  });

  it('does not start a job whose signal is already aborted', async () => {
    const source = new InMemorySource({ a: [{ cursor: at(1, 1) }] });
    const runner = new ScriptedJobRunner({ source });
    await expect(runner.run(job('a'), AbortSignal.abort())).rejects.toMatchObject({ errorType: 'timeout' });
    expect(source.committed('a')).toEqual([]);
  });

  it('offloads the window of an in-memory source: after the cursor (exclusive) up to the bound (inclusive)', async () => {
    const source = new InMemorySource({ a: [{ cursor: at(300, 1) }, { cursor: at(100, 2) }, { cursor: at(100, 1) }, { cursor: at(200, 9) }] });
    const runner = new ScriptedJobRunner({ source });
    const result = await runner.run(job('a', window(at(100, 1), 200)), live());
    expect(result).toMatchObject({ rowsWritten: 2, maxCursor: at(200, 9) });
    expect(source.committed('a')).toEqual([
      { cursor: at(100, 2), runId: 'run-1' },
      { cursor: at(200, 9), runId: 'run-1' },
    ]);
    await expect(runner.run(job('a', window(at(200, 9), 250)), live())).resolves.toMatchObject({ rowsWritten: 0, maxCursor: null });
  });

  it('counts the jobs of one table running at once, across runners sharing a source', async () => {
    const source = new InMemorySource();
    const gate = createGate();
    const steps = [{ kind: 'wait' as const, until: gate.opened }, { kind: 'succeed' as const }];
    const one = new ScriptedJobRunner({ source, scripts: { a: steps, b: steps } });
    const two = new ScriptedJobRunner({ source, scripts: { a: steps } });
    const runs = [one.run(job('a'), live()), two.run(job('a'), live()), one.run(job('b'), live())];
    gate.open();
    await Promise.all(runs);
    expect(source.maxConcurrentJobs('a')).toBe(2);
    expect(source.maxConcurrentJobs('b')).toBe(1);
  });
});
