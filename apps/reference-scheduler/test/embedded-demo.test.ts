import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { assertBuilt, coldtier } from './cli-helpers.js';

let dir: TempDir;
beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir('coldtier-demo-');
});
afterAll(() => dir?.remove());

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
