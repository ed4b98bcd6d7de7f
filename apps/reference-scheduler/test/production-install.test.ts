import { execFile } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bronzeTableDdl, insertTrades } from '@coldtier/offload-core';
import { createTempDir, createTestDatabase, startClickHouseServer, type ClickHouseTestServer, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { assertBuilt, coldtier, type CliResult } from './cli-helpers.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const LIMIT_BYTES = 80 * 1024 * 1024;

let dir: TempDir;
let install: string;

/** Bytes of every file under `path`, as `du` counts content (links not followed). */
async function sizeOf(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function installed(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return coldtier(args, { cli: join(install, 'dist', 'cli.js'), cwd: dir.path, env });
}

beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir('coldtier-prod-install-');
  install = join(dir.path, 'install');
  // As the README documents it; pnpm is on PATH wherever `pnpm test` runs.
  await promisify(execFile)('pnpm', ['--filter', '@coldtier/reference-scheduler', 'deploy', '--legacy', '--prod', '--no-optional', '--offline', install], { cwd: APP });
}, 180_000);
afterAll(() => dir?.remove());

describe('the production install (pnpm deploy --prod --no-optional)', () => {
  it(`is at most ${LIMIT_BYTES / 1024 / 1024} MB and holds none of the embedded demo's engines`, async () => {
    expect(await sizeOf(install)).toBeLessThanOrEqual(LIMIT_BYTES);
    const packages = await readdir(join(install, 'node_modules', '.pnpm'));
    expect(packages.filter((p) => /chdb|pglite/.test(p))).toEqual([]);
  });

  describe('against a ClickHouse server and PostgreSQL', () => {
    let server: ClickHouseTestServer;
    let db: TestDatabase;
    beforeAll(async () => {
      [server, db] = await Promise.all([startClickHouseServer({ password: 'pw' }), createTestDatabase()]);
      const client = server.client();
      await client.command({ query: 'CREATE DATABASE k2' });
      await client.command({ query: bronzeTableDdl('k2', 'bronze_trades_binance', { ttlDays: null }) });
      const hourAgo = Date.now() - 3_600_000;
      await insertTrades(client, 'k2', 'bronze_trades_binance', { exchange: 'binance', firstSequence: 1n, count: 500, from: new Date(hourAgo - 3_600_000), to: new Date(hourAgo) });
    });
    afterAll(async () => {
      await server?.stop();
      await db?.drop();
    });

    it('runs a cycle without chdb', { timeout: 120_000 }, async () => {
      const config = join(dir.path, 'coldtier.yaml');
      await writeFile(
        config,
        `clickhouse: { url: ${JSON.stringify(server.url)} }
runner: { kind: embedded, warehouse: ${JSON.stringify(join(dir.path, 'warehouse'))} }
tables:
  - { source: k2.bronze_trades_binance, target: cold.bronze_trades_binance, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true }
`,
      );
      const env = { COLDTIER_DATABASE_URL: db.url, CLICKHOUSE_PASSWORD: server.password };
      const migrated = await installed(['migrate', '--config', config], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      const run = await installed(['run', '--once', '--config', config, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'success', totalRows: 500 });
    });
  });

  it('refuses the embedded setup with one line naming the missing package', async () => {
    const result = await installed(['run', '--once', '--state-dir', join(dir.path, 'state')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/the embedded setup needs the optional package (chdb|@electric-sql\/pglite), which is not installed/);
  });
});
