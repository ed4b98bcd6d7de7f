import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bronzeTableDdl, insertTrades } from '@coldtier/offload-core';
import { createTempDir, createTestDatabase, startClickHouseServer, startEmbeddedClickHouse, type ClickHouseTestServer, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { assertBuilt, coldtier, daemonUrl, startDaemon, waitFor } from './cli-helpers.js';

const TABLE = 'bronze_trades_binance';
const BATCH = 1000;

let dir: TempDir;
let db: TestDatabase;
let server: ClickHouseTestServer;
let source: ClickHouseClient;
let config: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  assertBuilt();
  [dir, db, server] = await Promise.all([createTempDir('coldtier-http-e2e-'), createTestDatabase(), startClickHouseServer({ username: 'offloader', password: 'ch-secret' })]);
  source = server.client();
  await source.command({ query: 'CREATE DATABASE k2' });
  await source.command({ query: bronzeTableDdl('k2', TABLE, { ttlDays: null }) });
  config = join(dir.path, 'coldtier.yaml');
  await writeFile(
    config,
    `lateDataBufferMinutes: 0
retry: { retries: 1, minDelaySeconds: 1, maxDelaySeconds: 2 }
clickhouse: { url: ${JSON.stringify(server.url)}, username: offloader, passwordEnv: SOURCE_CLICKHOUSE_PASSWORD }
runner: { kind: embedded, warehouse: ${JSON.stringify(join(dir.path, 'warehouse'))} }
tables:
  - { source: k2.${TABLE}, target: cold.${TABLE}, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true, timeoutSeconds: 30 }
`,
  );
  env = { COLDTIER_DATABASE_URL: db.url, SOURCE_CLICKHOUSE_PASSWORD: server.password };
  expect((await coldtier(['migrate', '--config', config], { env })).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.remove();
});

interface Status {
  cycles: { status: string; totalRows: number }[];
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('coldtier start against a ClickHouse server over HTTP', () => {
  it('offloads what arrives in each cycle and stops cleanly, reconciling exactly', { timeout: 240_000 }, async () => {
    await insertTrades(source, 'k2', TABLE, { exchange: 'binance', firstSequence: 1n, count: BATCH, from: minutesAgo(120), to: minutesAgo(60) });
    const daemon = startDaemon(['--config', config, '--interval-seconds', '10', '--port', '0'], { env, cwd: dir.path });
    const url = await daemonUrl(daemon);
    const cyclesWithRows = async (n: number) => {
      const body = (await (await fetch(`${url}/status`)).json()) as Status;
      const moved = body.cycles.filter((c) => c.status === 'success' && c.totalRows > 0);
      return moved.length >= n ? moved : undefined;
    };
    expect((await waitFor('a first cycle that moved rows', () => cyclesWithRows(1), daemon, 120_000)).map((c) => c.totalRows)).toEqual([BATCH]);
    await insertTrades(source, 'k2', TABLE, { exchange: 'binance', firstSequence: BigInt(BATCH + 1), count: BATCH, from: minutesAgo(50), to: minutesAgo(10) });
    const moved = await waitFor('a second cycle that moved rows', () => cyclesWithRows(2), daemon, 120_000);
    expect(moved.map((c) => c.totalRows).sort()).toEqual([BATCH, BATCH]);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited, daemon.output()).toBe(0);

    const since = minutesAgo(24 * 60).toISOString();
    const check = await coldtier(['reconcile', '--config', config, '--table', TABLE, '--since', since, '--exact', '--json'], { env });
    expect(check.code, check.stderr).toBe(0);
    const reconciled = JSON.parse(check.stdout) as { source: string; totals: { icebergRows: number; clickhouseRows: number; missing: number; duplicates: number } };
    expect(reconciled.source).toBe('data');
    expect(reconciled.totals).toEqual(expect.objectContaining({ icebergRows: 2 * BATCH, clickhouseRows: 2 * BATCH, missing: 0, duplicates: 0 }));
    // Read back independently, through chdb's own Iceberg reader (paths relative to its working directory).
    const reader = await startEmbeddedClickHouse();
    const cwd = process.cwd();
    process.chdir(join(dir.path, 'warehouse'));
    try {
      const rs = await reader.client.query({
        query: `SELECT count() AS n, uniqExact(sequence_number) AS u, min(sequence_number) AS lo, max(sequence_number) AS hi FROM icebergLocal('cold/${TABLE}')`,
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ n: 2 * BATCH, u: 2 * BATCH, lo: 1, hi: 2 * BATCH }]);
    } finally {
      process.chdir(cwd);
      await reader.close();
    }
  });
});
