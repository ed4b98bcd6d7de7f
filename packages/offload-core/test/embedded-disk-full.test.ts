import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobFailedError } from '../src/errors.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { classifyEmbeddedFailure } from '../src/runner/embedded/classify.js';
import { INITIAL_CURSOR, microsFromDate } from '../src/watermark/cursor.js';
import { tableConfig } from './embedded-helpers.js';

const run = promisify(execFile);
let ch: EmbeddedClickHouse;
let temp: TempDir;
let tmpfs: string | undefined;

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir('coldtier-disk-full-');
  const mountPoint = join(temp.path, 'tiny');
  await mkdir(mountPoint);
  // A real full filesystem where it can be had (root, as in CI); the injected case below runs everywhere.
  tmpfs = await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]).then(() => mountPoint, () => undefined);
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  await ch.client.command({ query: 'CREATE TABLE k2.big (ts DateTime64(3), seq UInt64, payload String) ENGINE = MergeTree ORDER BY (ts, seq)' });
  // About 4 MB of incompressible text in one day: more than the 1 MiB filesystem holds.
  await ch.client.command({
    query: `INSERT INTO k2.big SELECT toDateTime64('2024-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number), number, randomPrintableASCII(200) FROM numbers(20000)`,
  });
}, 120_000);
afterAll(async () => {
  if (tmpfs) await run('umount', [tmpfs]).catch(() => undefined);
  await ch?.close();
  await temp?.remove();
});

describe('a full disk', () => {
  it.for(['server-side', 'stream'] as const)('is reported as disk full, not as a broken Parquet file (%s export)', { timeout: 120_000 }, async (exportMode, { skip }) => {
    if (!tmpfs) return skip('a tmpfs cannot be mounted here (not root?)');
    const catalog = new FilesystemCatalog({ warehouse: join(tmpfs, exportMode) });
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, exportMode });
    const job = { runId: `r-${exportMode}`, table: tableConfig({ name: 'big', timestampColumn: 'ts', sequenceColumn: 'seq', final: false }), window: { after: INITIAL_CURSOR, untilMicros: microsFromDate(new Date('2025-01-01')) }, attempt: 1 };
    const failure = await runner.run(job, new AbortController().signal).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(JobFailedError);
    expect(failure).toMatchObject({ errorType: 'process_error', retryable: false });
    expect((failure as Error).message).toMatch(/^Offload failed: big \(disk full\): .*ENOSPC/);
    expect((failure as Error).message).not.toMatch(/PAR1/);
  });

  it('passes an injected ENOSPC from anywhere in the cause chain through as the cause', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const wrapped = new Error('commit to cold.t failed', { cause: enospc });
    const failure = classifyEmbeddedFailure('t', wrapped, new AbortController().signal);
    expect(failure).toMatchObject({ errorType: 'process_error', retryable: false });
    expect(failure.message).toBe('Offload failed: t (disk full): commit to cold.t failed: ENOSPC: no space left on device, write');
  });
});
