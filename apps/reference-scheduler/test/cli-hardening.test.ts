import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, createTestDatabase, openTestPool, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { assertBuilt, coldtier, writeFakeSparkConfig } from './cli-helpers.js';

const SEED = new URL('./fixtures/seed-clickhouse.mjs', import.meta.url).pathname;

let dir: TempDir;
let chPath: string;

beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir('coldtier-hardening-');
  chPath = join(dir.path, 'clickhouse');
  await promisify(execFile)(process.execPath, [SEED, chPath]);
}, 120_000);
afterAll(async () => {
  await dir?.remove();
});

/** One line on stderr, no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function embeddedConfig(name: string, body: string): Promise<string> {
  const path = join(dir.path, `${name}.yaml`);
  await writeFile(path, `clickhouse: { url: embedded, path: ${JSON.stringify(chPath)} }\n${body}`);
  return path;
}

const bronze = (exchange: string) =>
  `  - { source: k2.bronze_trades_${exchange}, target: cold.bronze_trades_${exchange}, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }`;

describe('the SQL catalog on a fresh database', () => {
  let db: TestDatabase;
  let config: string;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('migrate creates its tables, then run --once commits through it', { timeout: 120_000 }, async () => {
    config = await embeddedConfig(
      'sql-catalog',
      `runner: { kind: embedded, catalog: sql, warehouse: ${JSON.stringify(join(dir.path, 'warehouse'))} }\ntables:\n${bronze('binance')}\n${bronze('kraken')}\n`,
    );
    const env = { COLDTIER_DATABASE_URL: db.url };
    const migrated = await coldtier(['migrate', '--config', config], { env });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/Applied migrations: .*\b5\b/);

    const run = await coldtier(['run', '--once', '--config', config, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'success', totalRows: 100 });

    const pool = openTestPool({ connectionString: db.url, max: 1 });
    try {
      const tables = await pool.query<{ table_name: string }>("SELECT table_name FROM iceberg_tables WHERE catalog_name = 'coldtier' ORDER BY 1");
      expect(tables.rows.map((r) => r.table_name)).toEqual(['bronze_trades_binance', 'bronze_trades_kraken']);
    } finally {
      await pool.end();
    }
  });

  it('clean-orphans lists, then deletes, only unreferenced data files older than the grace period', { timeout: 60_000 }, async () => {
    const env = { COLDTIER_DATABASE_URL: db.url };
    const data = join(dir.path, 'warehouse', 'cold', 'bronze_trades_binance', 'data');
    const committed = (await readdir(data, { recursive: true })).filter((f) => f.endsWith('.parquet'));
    expect(committed.length).toBeGreaterThan(0);
    const old = join(data, 'killed-run-00000.parquet');
    const recent = join(data, 'running-run-00000.parquet');
    await writeFile(old, 'PAR1 orphan');
    await writeFile(recent, 'PAR1 in progress');
    const fourDaysAgo = new Date(Date.now() - 4 * 86_400_000);
    await utimes(old, fourDaysAgo, fourDaysAgo);
    // Every committed file is old too: only the snapshot's reference keeps it.
    for (const file of committed) await utimes(join(data, file), fourDaysAgo, fourDaysAgo);

    const dry = await coldtier(['clean-orphans', '--config', config, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would delete ${old} (11 bytes`);
    expect(dry.stdout).toContain('bronze_trades_binance: would delete 1 orphan data file, 11 bytes');
    expect(dry.stdout).toContain('bronze_trades_kraken: would delete 0 orphan data files, 0 bytes');
    expect(existsSync(old)).toBe(true);

    const clean = await coldtier(['clean-orphans', '--config', config, '--older-than', '3d', '--table', 'bronze_trades_binance'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('bronze_trades_binance: deleted 1 orphan data file, 11 bytes');
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    for (const file of committed) expect(existsSync(join(data, file))).toBe(true);
  });
});

describe('a PostgreSQL that accepts connections and never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let url: string;
  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `postgres://coldtier:secret-pw@127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/db`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails run --once as a timeout within the connect timeout, naming the store and not the password', { timeout: 60_000 }, async () => {
    const config = await writeFakeSparkConfig(dir.path, 'watermarkStore: { connectTimeoutSeconds: 1 }\n');
    const started = Date.now();
    const result = await coldtier(['run', '--once', '--config', config], { env: { COLDTIER_DATABASE_URL: url, FAKE_SPARK_MODE: 'success' } });
    expect(result.code).toBe(1);
    expectOneLineError(result.stderr, /coldtier run: watermark store postgres:\/\/coldtier:\*\*\*@127\.0\.0\.1:\d+\/db \(from COLDTIER_DATABASE_URL\): timeout: /);
    expect(result.stderr).not.toContain('secret-pw');
    expect(sockets.size).toBeGreaterThan(0);
    // Generous: what matters is that it ends by itself instead of hanging for minutes.
    expect(Date.now() - started).toBeLessThan(45_000);
  });
});

describe('leases left by processes that are gone', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('takes over at once a lease of a dead process on this host, and names holder and expiry of another host', { timeout: 60_000 }, async () => {
    const env = { COLDTIER_DATABASE_URL: db.url, FAKE_SPARK_MODE: 'success' };
    const config = await writeFakeSparkConfig(dir.path);
    expect((await coldtier(['migrate', '--config', config], { env })).code).toBe(0);
    // A pid that is certainly gone: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const child = execFile(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    const until = new Date(Date.now() + 10 * 60_000);
    const pool = openTestPool({ connectionString: db.url, max: 1 });
    try {
      await pool.query(
        `INSERT INTO offload_leases (table_name, owner, token, expires_at) VALUES ('bronze_trades_binance', $1, 7, $3), ('bronze_trades_kraken', $2, 7, $3)`,
        [`${hostname()}:${dead}`, 'elsewhere.example:4242', until.toISOString()],
      );
    } finally {
      await pool.end();
    }
    const result = await coldtier(['run', '--once', '--config', config, '--json'], { env });
    expect(result.code, result.stderr).toBe(3);
    const report = JSON.parse(result.stdout) as { tables: { table: string; status: string; detail?: string }[] };
    expect(report.tables.find((t) => t.table === 'bronze_trades_binance')).toMatchObject({ status: 'success' });
    expect(report.tables.find((t) => t.table === 'bronze_trades_kraken')).toMatchObject({
      status: 'skipped',
      detail: `table bronze_trades_kraken is held until ${until.toISOString()} by elsewhere.example:4242`,
    });
  });
});
