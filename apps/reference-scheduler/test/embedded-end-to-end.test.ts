import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { alive, assertBuilt, coldtier, daemonUrl, startDaemon, waitFor } from './cli-helpers.js';

let dir: TempDir;
beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir('coldtier-e2e-');
});
afterAll(() => dir?.remove());

interface Status {
  cycles: { status: string; totalRows: number }[];
  tables: { table: string; watermark: string | null; watermarkSequence: string | null }[];
}

/** Processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function openChdb(path: string): ClickHouseClient {
  const connection = createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  return createClient({ connection });
}

async function one<T>(client: ClickHouseClient, query: string): Promise<T> {
  const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  return rows[0]!;
}

describe('coldtier start on the embedded default', () => {
  it('offloads the live source to Iceberg every interval and stops cleanly, losing and duplicating nothing', { timeout: 180_000 }, async () => {
    const state = join(dir.path, 'state');
    const daemon = startDaemon(['--state-dir', state, '--interval-seconds', '6', '--port', '0'], { cwd: dir.path });
    const url = await daemonUrl(daemon);
    const status = await waitFor(
      'two cycles that moved rows',
      async () => {
        const body = (await (await fetch(`${url}/status`)).json()) as Status;
        return body.cycles.filter((c) => c.status === 'success' && c.totalRows > 0).length >= 2 ? body : undefined;
      },
      daemon,
      120_000,
    );
    expect(status.tables.every((t) => t.watermark !== null)).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^offload_rows_total\{table="bronze_trades_binance",layer="bronze"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // Maintenance ran between cycles, under each table's lease, and reported every action.
    const maintained = await waitFor(
      'a maintenance run of every table',
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const runs = text.split('\n').filter((l) => l.startsWith('offload_maintenance_runs_total{') && l.includes('action="expire_snapshots",status="success"'));
        return runs.length === 2 ? text : undefined;
      },
      daemon,
      60_000,
    );
    expect(maintained).toMatch(/^offload_table_snapshots\{table="bronze_trades_binance"\} \d+$/m);

    const children = childrenOf(daemon.child.pid!);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(children.filter(alive)).toEqual([]);

    const final = JSON.parse((await coldtier(['status', '--state-dir', state, '--json'])).stdout) as Status;
    // Reconciliation agrees: nothing missing or duplicated, newer rows pending.
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const check = await coldtier(['reconcile', '--state-dir', state, '--table', 'bronze_trades_binance', '--since', since, '--exact', '--json']);
    expect(check.code, check.stderr).toBe(0);
    const reconciled = JSON.parse(check.stdout) as { source: string; totals: { icebergRows: number; clickhouseRows: number; missing: number; duplicates: number } };
    expect(reconciled.source).toBe('data');
    expect(reconciled.totals).toMatchObject({ missing: 0, duplicates: 0 });
    expect(reconciled.totals.icebergRows).toBe(reconciled.totals.clickhouseRows);
    expect(reconciled.totals.icebergRows).toBeGreaterThan(0);

    // By hand: every action of every table, reported as JSON; the rows are untouched. A view over
    // both tiers moves to the maintained table (its old pin may list files that expiry deletes).
    // The embedded engine reads the warehouse relative to the working directory of the process querying.
    const view = await coldtier(['view', '--state-dir', state, '--table', 'bronze_trades_binance', '--apply'], { cwd: state });
    expect(view.code, view.stderr).toBe(0);
    const maintain = await coldtier(['maintain', '--state-dir', state, '--json', '--verbose'], { cwd: state });
    expect(maintain.code, maintain.stderr).toBe(0);
    const reports = JSON.parse(maintain.stdout) as { table: string; result: { status: string; report: { actions: { action: string; status: string }[] } } }[];
    expect(reports.map((r) => [r.table, r.result.status])).toEqual(final.tables.map((t) => [t.table, 'done']));
    expect(reports[0]!.result.report.actions.map((a) => a.status)).not.toContain('failed');
    expect(maintain.stderr).toMatch(/^Maintain bronze_trades_binance: compact success in /m);
    expect(maintain.stderr).toContain('view k2.bronze_trades_binance_all moved to the new boundary');
    expect(maintain.stderr).not.toContain('bronze_trades_kraken_all');
    const unknown = await coldtier(['maintain', '--state-dir', state, '--table', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/unknown table "nope"/)]);
    // Read back independently: the source tables and the Iceberg tables, through chdb's own Iceberg reader.
    const client = openChdb(join(state, 'clickhouse'));
    const cwd = process.cwd();
    process.chdir(join(state, 'warehouse'));
    try {
      for (const table of final.tables) {
        expect(table.watermark).not.toBeNull();
        const upTo = `(parseDateTime64BestEffort('${table.watermark}', 6), toUInt64(${table.watermarkSequence}))`;
        const source = await one<{ n: string; u: string; s: string }>(
          client,
          `SELECT count() AS n, uniqExact(sequence_number) AS u, toString(sum(sequence_number)) AS s
           FROM k2.${table.table} FINAL WHERE (exchange_timestamp, sequence_number) <= ${upTo}`,
        );
        const iceberg = await one<{ n: string; u: string; s: string }>(
          client,
          `SELECT count() AS n, uniqExact(sequence_number) AS u, toString(sum(sequence_number)) AS s FROM icebergLocal('cold/${table.table}')`,
        );
        expect(Number(source.n)).toBeGreaterThan(0);
        expect(iceberg).toEqual(source);
        expect(iceberg.u).toBe(iceberg.n);
      }
    } finally {
      process.chdir(cwd);
      await client.close();
    }
  });
});
