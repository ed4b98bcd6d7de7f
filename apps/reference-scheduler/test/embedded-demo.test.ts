import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { assertBuilt, coldtier, daemonUrl, startDaemon, waitFor } from './cli-helpers.js';

let dir: TempDir;
beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir('coldtier-demo-');
});
afterAll(() => dir?.remove());

interface StatusJson {
  tables: { table: string; status: string; watermark: string | null; watermarkSequence: string | null }[];
  cycles?: { totalRows: number }[];
}

/** Every table's watermark in `a` is at or before the one in `b` (a cycle may complete between two reads). */
function expectNotAfter(a: StatusJson, b: StatusJson): void {
  expect(a.tables.map((t) => t.table)).toEqual(b.tables.map((t) => t.table));
  a.tables.forEach((t, i) => expect(t.watermark! <= b.tables[i]!.watermark!, `${t.table}: ${t.watermark} after ${b.tables[i]!.watermark}`).toBe(true));
}

async function liveStatus(url: string): Promise<StatusJson> {
  return (await (await fetch(`${url}/status`)).json()) as StatusJson;
}

interface CycleJson {
  status: string;
  totalRows: number;
  tables: { table: string; status: string; rows: number }[];
}

describe('the embedded demo', () => {
  it('offloads rows at the first run --once on a fresh state directory, and seeds only once', { timeout: 120_000 }, async () => {
    const state = join(dir.path, 'fresh');
    const first = await coldtier(['run', '--once', '--state-dir', state, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as CycleJson;
    expect(report.status).toBe('success');
    for (const table of report.tables) expect(table.rows, table.table).toBeGreaterThan(0);
    expect(first.stderr).toMatch(/seeded \d+ trades over the last 30 minutes/);

    // A source with rows is not seeded again; the second run offloads only seeded rows that have left the late-data buffer since.
    const second = await coldtier(['run', '--once', '--state-dir', state, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/seeded/);
    expect((JSON.parse(second.stdout) as CycleJson).totalRows).toBeLessThan(report.totalRows);
  });
});

describe('the CLI beside a running coldtier start', () => {
  it('answers status, diagnose and reconcile through the daemon, with the output they have when it is stopped', { timeout: 240_000 }, async () => {
    const state = join(dir.path, 'live');
    const daemon = startDaemon(['--state-dir', state, '--interval-seconds', '600', '--port', '0'], { cwd: dir.path });
    try {
      const url = await daemonUrl(daemon);
      const live = await waitFor('a cycle that moved rows', async () => {
        const body = await liveStatus(url);
        return body.cycles?.some((c) => c.totalRows > 0) ? body : undefined;
      }, daemon, 120_000);

      const status = await coldtier(['status', '--state-dir', state, '--json']);
      expect(status.code, status.stderr).toBe(0);
      const printed = JSON.parse(status.stdout) as StatusJson;
      expect(printed.tables.every((t) => t.status === 'success' && t.watermark !== null)).toBe(true);
      expectNotAfter(live, printed);
      expectNotAfter(printed, await liveStatus(url));
      const table = await coldtier(['status', '--state-dir', state]);
      expect(table.stdout).toContain(printed.tables[0]!.watermark!);

      const diagnosis = await coldtier(['diagnose', '--state-dir', state, '--json']);
      expect(diagnosis.code, diagnosis.stderr).toBe(0);
      expect((JSON.parse(diagnosis.stdout) as { steps: Record<string, { status: string }> }).steps['watermarks']?.status).toBe('ok');

      const since = new Date(Date.now() - 86_400_000).toISOString();
      const reconciled = await coldtier(['reconcile', '--state-dir', state, '--table', 'bronze_trades_kraken', '--since', since, '--json']);
      expect(reconciled.code, reconciled.stderr).toBe(0);
      expect((JSON.parse(reconciled.stdout) as { totals: { icebergRows: number; missing: number } }).totals).toMatchObject({ missing: 0 });

      // Usage errors are the same; commands that would offload still refuse, saying what works.
      const bad = await coldtier(['status', '--state-dir', state, '--colour']);
      expect(bad.code).toBe(2);
      const once = await coldtier(['run', '--once', '--state-dir', state]);
      expect(once.code).toBe(1);
      expect(once.stderr).toMatch(/is in use by `coldtier start`.*status, diagnose and reconcile work beside it/);

      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      const stopped = await coldtier(['status', '--state-dir', state, '--json']);
      expect(stopped.code, stopped.stderr).toBe(0);
      const after = JSON.parse(stopped.stdout) as StatusJson;
      expectNotAfter(printed, after);
      expect(Object.keys(after.tables[0]!)).toEqual(Object.keys(printed.tables[0]!));
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  });
});
