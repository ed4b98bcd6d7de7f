import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, createTestDatabase, openTestPool, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { alive, assertBuilt, coldtier, daemonUrl, startDaemon, waitFor, writeFakeSparkConfig } from './cli-helpers.js';

let db: TestDatabase;
let dir: TempDir;
let config: string;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
  dir = await createTempDir('coldtier-daemon-');
  config = await writeFakeSparkConfig(dir.path);
  expect((await coldtier(['migrate', '--config', config], { env: { COLDTIER_DATABASE_URL: db.url } })).code).toBe(0);
});
afterAll(async () => {
  await dir?.remove();
  await db?.drop();
});

async function liveLeases(): Promise<number> {
  const pool = openTestPool({ connectionString: db.url, max: 1 });
  try {
    const result = await pool.query<{ n: string }>('SELECT count(*) AS n FROM offload_leases WHERE expires_at > now()');
    return Number(result.rows[0]?.n);
  } finally {
    await pool.end();
  }
}

interface Status {
  scheduler: { cycles: number; skippedTicks: number };
  tables: { table: string; status: string; lastOutcome?: { status: string } }[];
  cycles: { status: string }[];
}

describe('coldtier start', () => {
  it('runs cycles on its interval, serves /metrics, /healthz and /status, and exits 0 on SIGTERM', async () => {
    const logFile = join(dir.path, 'scheduler.log');
    const daemon = startDaemon(['--config', config, '--interval-seconds', '3', '--port', '0', '--log-file', logFile], {
      env: { COLDTIER_DATABASE_URL: db.url, FAKE_SPARK_MODE: 'success' },
    });
    const url = await daemonUrl(daemon);
    const status = await waitFor('two cycles', async () => {
      const body = (await (await fetch(`${url}/status`)).json()) as Status;
      return body.cycles.length >= 2 ? body : undefined;
    }, daemon);
    expect(status.cycles.slice(0, 2).map((c) => c.status)).toEqual(['success', 'success']);
    expect(status.tables.map((t) => [t.table, t.status, t.lastOutcome?.status])).toEqual([
      ['bronze_trades_binance', 'success', 'success'],
      ['bronze_trades_kraken', 'success', 'success'],
    ]);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^offload_cycles_total\{status="success"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^offload_skipped_ticks_total \d+/m);
    expect(metrics).toMatch(/^offload_lag_minutes\{table="bronze_trades_binance"\} /m);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.output()).toContain('Received SIGTERM');
    expect(daemon.output()).toContain('Offload scheduler stopped');
    const log = await readFile(logFile, 'utf8');
    expect(log).toContain('OFFLOAD CYCLE COMPLETED');
    expect(log).toMatch(/Next run scheduled at: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    expect(await liveLeases()).toBe(0);
  });

  it('on SIGTERM aborts a job that outlives the grace period, leaves no process behind and releases its leases', async () => {
    const pidFile = join(dir.path, 'spark.pid');
    const daemon = startDaemon(['--config', config, '--interval-seconds', '60', '--port', '0', '--grace-seconds', '1'], {
      env: { COLDTIER_DATABASE_URL: db.url, FAKE_SPARK_MODE: 'hang', FAKE_SPARK_PID_FILE: pidFile },
    });
    const pids = await waitFor('the hanging job', async () => JSON.parse(await readFile(pidFile, 'utf8')) as { child: number; grandchild: number }, daemon);
    expect(alive(pids.child) && alive(pids.grandchild)).toBe(true);
    expect(await liveLeases()).toBeGreaterThan(0);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(alive(pids.child)).toBe(false);
    expect(alive(pids.grandchild)).toBe(false);
    expect(await liveLeases()).toBe(0);
    expect(daemon.output()).toContain('Grace period over; aborting the running offload cycle');
  });
});
