import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { CommitConflictError } from '../src/iceberg/catalog/catalog.js';
import { retryPolicyOf, runCommitLoop, type CommitAction } from '../src/iceberg/transaction/commit-loop.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, useTradesTable } from './iceberg-helpers.js';

describe('the shared commit loop', () => {
  const table = useTradesTable();
  const { id } = table;

  /** An action that sets a property, with another writer landing between its load and commit `interferences` times. */
  function contendedAction(interferences: number, seen: bigint[]): CommitAction<string> {
    let left = interferences;
    return {
      name: 'test',
      plan: async (base) => {
        seen.push(base.metadata.currentSnapshotId ?? -1n);
        if (left-- > 0) await fastAppend(table.catalog, id, [fakeDataFile(`/data/other${left}.parquet`, 1)]);
        return {
          updates: [{ action: 'set-properties', updates: { k: 'v' } }],
          requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: base.metadata.currentSnapshotId }],
          result: 'done',
        };
      },
    };
  }

  it('reads the retry count from commit.retry.num-retries and re-plans on the reloaded table each attempt', async () => {
    await table.catalog.commitTable(id, [], [{ action: 'set-properties', updates: { 'commit.retry.num-retries': '1' } }]);
    const seen: bigint[] = [];
    const error = await runCommitLoop(table.catalog, id, contendedAction(5, seen), { sleep: noSleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitConflictError);
    expect(seen).toHaveLength(2);
    // The second attempt planned against the snapshot the interfering writer landed.
    expect(seen[1]).not.toBe(seen[0]);

    const ok = await runCommitLoop(table.catalog, id, contendedAction(1, []), { sleep: noSleep });
    expect(ok).toMatchObject({ result: 'done', attempts: 2 });
    expect(ok.table.metadata.properties['k']).toBe('v');
  });

  it('stops retrying once commit.retry.total-timeout-ms has passed', async () => {
    const clock = new ManualClock(0);
    const sleeps: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    };
    await table.catalog.commitTable(id, [], [
      { action: 'set-properties', updates: { 'commit.retry.total-timeout-ms': '250', 'commit.retry.num-retries': '50' } },
    ]);
    const error = await runCommitLoop(table.catalog, id, contendedAction(50, []), { sleep, clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitConflictError);
    // 100 + 150 (the rest of the budget): no wait ever runs past the timeout.
    expect(sleeps).toEqual([100, 150]);
  });

  it('does not retry an error that is not retryable, and abandons the action', async () => {
    let plans = 0;
    let abandoned = 0;
    const refusal = new Error('validation failed');
    const action: CommitAction<never> = {
      name: 'test',
      plan: () => {
        plans++;
        return Promise.reject(refusal);
      },
      abandon: () => {
        abandoned++;
        return Promise.resolve();
      },
    };
    await expect(runCommitLoop(table.catalog, id, action, { sleep: noSleep })).rejects.toBe(refusal);
    expect([plans, abandoned]).toEqual([1, 1]);
  });

  it('keeps the snapshot id of an append fixed across attempts', async () => {
    let interfere = 2;
    const result = await fastAppend(table.catalog, id, [fakeDataFile('/data/mine.parquet', 1)], {
      sleep: noSleep,
      validate: async () => {
        if (interfere-- > 0) await fastAppend(table.catalog, id, [fakeDataFile(`/data/other${interfere}.parquet`, 1)]);
      },
    });
    expect(result.attempts).toBe(3);
    const { metadata } = await table.catalog.loadTable(id);
    expect(mainAncestry(metadata)[0]?.snapshotId).toBe(result.snapshot.snapshotId);
    // Every attempt wrote its manifest list under the one snapshot id; only the landed one is left.
    const lists = (await table.catalog.io.list(`${table.catalog.tableLocation(id)}/metadata`)).filter((p) => p.includes(`snap-${result.snapshot.snapshotId}-`));
    expect(lists).toEqual([expect.stringContaining(`snap-${result.snapshot.snapshotId}-3-`)]);
  });

  it('takes Iceberg defaults for absent or malformed properties and lets overrides win', () => {
    expect(retryPolicyOf({})).toEqual({ retries: 4, minWaitMs: 100, maxWaitMs: 60_000, totalTimeoutMs: 1_800_000 });
    expect(retryPolicyOf({ 'commit.retry.num-retries': 'x', 'commit.retry.min-wait-ms': '5' }, { maxWaitMs: 7 })).toEqual({
      retries: 4,
      minWaitMs: 5,
      maxWaitMs: 7,
      totalTimeoutMs: 1_800_000,
    });
  });
});
