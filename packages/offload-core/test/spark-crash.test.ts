import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createTempDir,
  createTestDatabase,
  findSpark,
  openTestPool,
  sparkEnv,
  sparkSubmitCommand,
  startClickHouseServer,
  startEmbeddedClickHouse,
} from '@coldtier/test-support';
import type { ClickHouseTestServer, EmbeddedClickHouse, SparkInstall, TempDir, TestDatabase } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, parseMicros } from '@coldtier/offload-core';
import type { Cursor, OffloadJob } from '@coldtier/offload-core';
import type { Catalog } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import type { IcebergCatalogSettings } from '../src/runner/spark/args.js';
import type { SpawnFunction } from '../src/runner/spark/process-group.js';
import { SparkJobRunner } from '../src/runner/spark/spark-runner.js';
import { compareCursors, INITIAL_CURSOR } from '../src/watermark/cursor.js';

/**
 * SIGKILL of the whole spark-submit process group at random points (from
 * JVM start to after the commit), then recovery as the orchestrator does it:
 * fast-forward to the table's own `coldtier.watermark`, re-plan, run again.
 * Whatever the kill hit, the table ends with every source row exactly once.
 * `COLDTIER_SPARK_CRASH_RUNS` kills per catalog (default 1: each costs a
 * Spark start; the closing note reports a run with 10).
 */

const JOB = fileURLToPath(new URL('../spark/offload_job.py', import.meta.url));
const CRASHES = Number(process.env['COLDTIER_SPARK_CRASH_RUNS'] ?? '1');
const BATCH = 50;
const BASE_SEQ = 2n ** 63n;

let temp: TempDir;
let server: ClickHouseTestServer;
let ch: ClickHouseClient;
let reader: EmbeddedClickHouse;
let database: TestDatabase;
let pool: pg.Pool;
let spark: SparkInstall;
let inserted = 0;

beforeAll(async () => {
  temp = await createTempDir();
  spark = await findSpark();
  [server, reader, database] = await Promise.all([startClickHouseServer(), startEmbeddedClickHouse(), createTestDatabase()]);
  ch = server.client();
  pool = openTestPool({ connectionString: database.url });
  await ch.command({ query: 'CREATE DATABASE src' });
  await ch.command({ query: `CREATE TABLE src.events (ts DateTime64(3, 'UTC'), seq UInt64, tags Array(String)) ENGINE = MergeTree ORDER BY (ts, seq)` });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await reader?.close();
  await pool?.end();
  await database?.drop();
  await temp?.remove();
});

/** A new batch of rows, each a second apart, continuing the sequence. */
async function insertBatch(): Promise<void> {
  await ch.command({
    query: `INSERT INTO src.events SELECT toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(number),
      ${BASE_SEQ} + number, [toString(number)] FROM numbers(${inserted}, ${BATCH})`,
  });
  inserted += BATCH;
}

const SUMS = `count() AS n, uniqExact(seq) AS distinct_seq, toString(sum(toUInt128(seq))) AS seq_sum`;

async function sums(client: ClickHouseClient, from: string): Promise<Record<string, unknown>> {
  const result = await client.query({ query: `SELECT ${SUMS} FROM ${from}`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return (await result.json<Record<string, unknown>>())[0]!;
}

async function tableSums(catalog: Catalog, name: string): Promise<Record<string, unknown>> {
  const table = await catalog.loadTable({ namespace: ['cold'], name });
  const files = (await listLiveDataFiles(catalog.io, table.metadata)).map((f) => relative(temp.path, f.dataFile.filePath.replace(/^file:/, '')));
  const cwd = process.cwd();
  process.chdir(temp.path);
  return sums(reader.client, `file('{${files.join(',')}}', 'Parquet')`).finally(() => process.chdir(cwd));
}

describe('SIGKILL of spark-submit at random points', () => {
  const jdbc = (): { uri: string; user: string; password: string } => {
    const url = new URL(database.url);
    return { uri: `jdbc:postgresql://${url.host}${url.pathname}`, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  };
  const cases: [string, () => [Catalog, IcebergCatalogSettings]][] = [
    ['filesystem', () => [new FilesystemCatalog({ warehouse: `${temp.path}/fs` }), { type: 'hadoop', warehouse: `${temp.path}/fs` }]],
    [
      'sql',
      () => {
        const catalog = new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: `${temp.path}/sql` });
        return [catalog, { type: 'jdbc', warehouse: `${temp.path}/sql`, ...jdbc() }];
      },
    ],
  ];

  for (const [kind, open] of cases) {
    it(`${kind} catalog: ${CRASHES} kills, then every row exactly once`, { timeout: (CRASHES + 2) * 240_000 }, async () => {
      const [catalog, settings] = open();
      if (catalog instanceof SqlCatalog) await catalog.initialize();
      const target = `cold.events_${kind}`;
      const table = parseConfig({
        tables: [{ source: 'src.events', target, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq', timeoutSeconds: 900 }],
      }).tables[0]!;
      let group: number | undefined;
      const recordingSpawn: SpawnFunction = (command, args, options) => {
        const child = spawn(command, args, options);
        group = child.pid;
        return child;
      };
      const runner = new SparkJobRunner({
        command: [...sparkSubmitCommand(spark, { localDir: temp.path }), JOB],
        killGraceMs: 5_000,
        env: sparkEnv({ TMPDIR: temp.path }),
        clickhouse: { url: server.url },
        catalog: settings,
        target: { clickhouse: ch, catalog },
        spawn: recordingSpawn,
      });
      const signal = new AbortController().signal;
      // The store's watermark, advanced only by a reported result, as the orchestrator does.
      let stored: Cursor = INITIAL_CURSOR;
      let attempt = 0;
      const runOnce = async (killAfterMs: number | null): Promise<'committed' | 'killed'> => {
        // Recovery: fast-forward to what the table says it holds.
        const committed = await runner.committedWatermark(table, signal);
        if (committed && compareCursors(committed, stored) > 0) stored = committed;
        const job: OffloadJob = { runId: `${kind}-${++attempt}`, table, attempt: 1, window: { after: stored, untilMicros: parseMicros('2027-01-01T00:00:00Z') } };
        group = undefined;
        const running = runner.run(job, signal);
        let killed = false;
        const timer =
          killAfterMs === null
            ? undefined
            : setTimeout(() => {
                if (group === undefined) return;
                try {
                  process.kill(-group, 'SIGKILL');
                  killed = true;
                } catch {
                  // The group had already exited.
                }
              }, killAfterMs);
        try {
          const result = await running;
          if (result.maxCursor) stored = result.maxCursor;
          return 'committed';
        } catch (error) {
          if (!killed) throw error;
          return 'killed';
        } finally {
          clearTimeout(timer);
        }
      };

      await insertBatch();
      const started = Date.now();
      expect(await runOnce(null)).toBe('committed');
      const duration = Date.now() - started;
      const outcomes: string[] = [];
      for (let i = 0; i < CRASHES; i++) {
        await insertBatch();
        // From early in the JVM's start to a little past a typical run's end.
        outcomes.push(await runOnce(Math.round(duration * (0.1 + Math.random() * 1.1))));
      }
      expect(await runOnce(null)).toBe('committed');
      const expected = await sums(ch, 'src.events');
      expect(await tableSums(catalog, `events_${kind}`), `kill outcomes: ${outcomes.join(', ')}`).toEqual(expected);
      console.log(`spark crash test (${kind}): ${CRASHES} kills, outcomes ${outcomes.join(',')}, a clean run took ${duration} ms`);
    });
  }
});
