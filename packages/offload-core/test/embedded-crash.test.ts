import { execFile, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTempDir, createTestDatabase, startClickHouseServer, startEmbeddedClickHouse, openTestPool } from '@coldtier/test-support';
import type { ClickHouseTestServer, EmbeddedClickHouse, TempDir, TestDatabase } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { cleanOrphanDataFiles, findOrphanDataFiles } from '../src/runner/embedded/orphans.js';
import { committedWatermarkOf } from '../src/runner/embedded/summary.js';
import { INITIAL_CURSOR } from '../src/watermark/cursor.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';
import { readIceberg } from './embedded-helpers.js';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/crash-offload.mjs', import.meta.url));
const ID = { namespace: ['cold'], name: 'bronze' };

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

/**
 * The child runs the built package, as an operator's process would. The
 * root `pnpm test` builds first; run alone, this rebuilds when `dist/` is
 * older than `src/`.
 */
async function ensureBuilt(): Promise<void> {
  const src = join(PACKAGE, 'src');
  for (const file of await sourceFiles(src)) {
    const built = join(PACKAGE, 'dist', file.slice(src.length).replace(/\.ts$/, '.js'));
    const fresh = await stat(built).then((b) => b.mtimeMs >= 0 && stat(file).then((s) => b.mtimeMs >= s.mtimeMs), () => false);
    if (fresh) continue;
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await promisify(execFile)(process.execPath, [tsc, '-b', PACKAGE]).catch((error: { stdout?: string }) => {
      throw new Error(`building ${PACKAGE} for the crash tests failed:\n${error.stdout ?? String(error)}`);
    });
    return;
  }
}

interface ChildEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

function runChild(env: Record<string, string>): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], { cwd: PACKAGE, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

interface ChildResult {
  readonly status: string;
  readonly source: { readonly rows: string; readonly checksum: string };
}

function resultOf(end: ChildEnd): ChildResult {
  const line = end.output.split('\n').find((l) => l.startsWith('CRASH_RESULT '));
  if (end.code !== 0 || !line) throw new Error(`offload child failed (code ${end.code}, signal ${end.signal}):\n${end.output}`);
  return JSON.parse(line.slice('CRASH_RESULT '.length)) as ChildResult;
}

type CrashPoint = 'files_written' | 'committed' | 'mid-commit';

/** Reads the Iceberg tables back (in process); the offload child reads its source from `server` over HTTP, as in production. */
let ch: EmbeddedClickHouse;
let server: ClickHouseTestServer;
beforeAll(async () => {
  await ensureBuilt();
  [ch, server] = await Promise.all([startEmbeddedClickHouse(), startClickHouseServer({ password: 'crash' })]);
}, 180_000);
afterAll(async () => {
  await ch?.close();
  await server?.stop();
});

describe('a SIGKILLed offload, rerun, leaves every source row in Iceberg exactly once', () => {
  let temp: TempDir;
  let database: TestDatabase;
  let pool: pg.Pool;
  afterEach(async () => {
    await pool?.end();
    await database?.drop();
    await temp?.remove();
  });

  const cases: [CrashPoint, 'filesystem' | 'sql'][] = [
    ['files_written', 'filesystem'],
    ['committed', 'filesystem'],
    ['mid-commit', 'filesystem'],
    ['committed', 'sql'],
    ['mid-commit', 'sql'],
  ];

  it.each(cases)('killed at %s, %s catalog', async (crashAt, kind) => {
    temp = await createTempDir();
    database = await createTestDatabase();
    pool = openTestPool({ connectionString: database.url });
    const warehouse = join(temp.path, 'warehouse');
    const source = server.client();
    await source.command({ query: 'DROP TABLE IF EXISTS k2.bronze' });
    const env = { CRASH_CLICKHOUSE_URL: server.url, CRASH_CLICKHOUSE_PASSWORD: server.password, CRASH_WAREHOUSE: warehouse, CRASH_DATABASE_URL: database.url, CRASH_CATALOG: kind };
    const catalog: Catalog =
      kind === 'sql' ? new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse }) : new FilesystemCatalog({ warehouse });
    const store = new PostgresWatermarkStore({ pool });

    const crashed = await runChild({ ...env, CRASH_SEED: '0:600', CRASH_NOW: '2024-01-02T00:00:00Z', CRASH_AT: crashAt });
    expect(crashed.signal, crashed.output).toBe('SIGKILL');

    const afterCrash = await catalog.loadTable(ID);
    const stored = (await store.get('bronze'))!.cursor;
    const committed = committedWatermarkOf(afterCrash.metadata, 'k2.bronze');
    if (crashAt === 'committed') {
      expect(committed).toBeDefined();
      // Filesystem: the watermark update never ran. SQL: it committed with the pointer swap.
      expect(stored).toEqual(kind === 'sql' ? committed : INITIAL_CURSOR);
    } else {
      expect(currentSnapshot(afterCrash.metadata)).toBeUndefined();
      expect(stored).toEqual(INITIAL_CURSOR);
      expect(await findOrphanDataFiles(catalog, ID, { olderThanMs: 0 })).not.toHaveLength(0);
    }

    const rerun = resultOf(await runChild({ ...env, CRASH_SEED: '600:1000', CRASH_NOW: '2024-01-03T00:00:00Z' }));
    expect(rerun.status).toBe('success');
    expect(rerun.source.rows).toBe('1000');

    const table = await catalog.loadTable(ID);
    const read = () =>
      readIceberg<{ rows: string; distinct: string; checksum: string }>(
        ch.client,
        temp.path,
        table,
        (from) => `SELECT toString(count()) AS rows, toString(uniqExact(exchange_timestamp, sequence_number)) AS distinct,
          toString(groupBitXor(cityHash64(toUnixTimestamp64Micro(exchange_timestamp), toString(sequence_number)))) AS checksum FROM ${from}`,
      );
    expect(await read()).toEqual([{ rows: '1000', distinct: '1000', checksum: rerun.source.checksum }]);
    expect((await store.get('bronze'))!.cursor).toEqual(committedWatermarkOf(table.metadata, 'k2.bronze'));

    // Files of the run that never committed are referenced by nothing and can go.
    const live = new Set((await listLiveDataFiles(catalog.io, table.metadata)).map((f) => f.dataFile.filePath));
    const orphans = await cleanOrphanDataFiles(catalog, ID, { olderThanMs: 0 });
    expect(orphans.length > 0).toBe(crashAt !== 'committed');
    expect(orphans.filter((o) => live.has(o.location))).toEqual([]);
    expect(await read()).toEqual([{ rows: '1000', distinct: '1000', checksum: rerun.source.checksum }]);
  }, 120_000);
});
