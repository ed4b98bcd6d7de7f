/**
 * One measurement, run in a child process of its own (chdb binds one data
 * directory per process, and the process's peak RSS is the measurement's).
 * Usage: node measure.js <setup|export|coldtier|clickhouse-iceberg> <chdb dir> <output dir> <rows> [stream|server-side]
 *        node measure.js <download|coldtier-http> <server URL> <output dir> <rows>
 *        node measure.js <s3-clickhouse|s3-server-side|s3-stream> <server URL> <output dir> <rows>  (S3 target from the environment, see object-store.ts)
 * Prints one `BENCH_RESULT {json}` line. The HTTP measurements never load chdb,
 * so their peak RSS is Coldtier's (or the download's) alone.
 */
import { createWriteStream } from 'node:fs';
import { stat, readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseClientConfigOptions } from '@clickhouse/client';
import { EmbeddedIcebergRunner, FilesystemCatalog, INITIAL_CURSOR, PARQUET_OUTPUT_SETTINGS, parseMicros, tableSchema } from '@coldtier/offload-core';
import type { EmbeddedStage, ParquetExportMode, ParquetQueryClient, TableConfig } from '@coldtier/offload-core';
import { DATABASE, TABLE, UNTIL, WINDOW_QUERY, createBronze } from './bronze.js';
import { clickhouseToS3, objectStoreCatalog, objectStoreTarget, parquetObjects } from './object-store.js';
import type { ObjectStoreTarget } from './object-store.js';

export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface Measurement {
  readonly kind: string;
  readonly rows: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMiB: number;
  /** CPU seconds (user + system) of the measurement's own process: Coldtier's, or chdb's with it in process. */
  readonly cpuSeconds: number;
  /** CPU seconds of the servers it used, added by the parent (which started them). */
  readonly serverCpuSeconds?: { readonly clickhouse?: number; readonly s3?: number };
  /** Seconds per phase, where the measurement has phases. */
  readonly phases: Readonly<Record<string, number>>;
}

type Timed = { seconds: number; bytes: number; files: number; phases: Record<string, number> };

async function open(path: string): Promise<ClickHouseClient> {
  const { createChdbConnection } = await import('chdb/connection');
  const connection = createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  return createClient({ connection });
}

/** The HTTP measurements' client, set up as the app sets it up: the server's default user, progress headers, a generous timeout for a loaded machine. */
function openHttp(url: string): ClickHouseClient {
  return createClient({ url, request_timeout: 600_000, clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '60000' } });
}

/** (d) ClickHouse's own Parquet download of the window over HTTP, the body written straight to a file (curl -o). */
async function downloadParquet(url: string, out: string): Promise<Timed> {
  const params = new URLSearchParams(Object.entries(PARQUET_OUTPUT_SETTINGS).map(([k, v]): [string, string] => [k, String(v)]));
  const start = performance.now();
  const response = await fetch(`${url}/?${params}`, { method: 'POST', body: `${WINDOW_QUERY} FORMAT Parquet` });
  if (!response.ok || !response.body) throw new Error(`download failed: HTTP ${response.status}: ${await response.text()}`);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(join(out, 'window.parquet')));
  return { seconds: (performance.now() - start) / 1000, ...(await sizeOf(out)), phases: {} };
}

async function count(client: ClickHouseClient): Promise<number> {
  const result = await client.query({ query: `SELECT count() AS n FROM ${DATABASE}.${TABLE} FINAL`, format: 'JSONEachRow' });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

async function sizeOf(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}

/** (a) ClickHouse's own export of the window to one Parquet file. */
async function exportParquet(client: ClickHouseClient, out: string): Promise<Timed> {
  const start = performance.now();
  await client.command({
    query: `INSERT INTO FUNCTION file({path:String}, 'Parquet') ${WINDOW_QUERY}`,
    query_params: { path: join(out, 'window.parquet') },
    clickhouse_settings: { ...PARQUET_OUTPUT_SETTINGS, engine_file_truncate_on_insert: 1 },
  });
  return { seconds: (performance.now() - start) / 1000, ...(await sizeOf(out)), phases: {} };
}

/** A client that adds the time of each call to `phases[plan]` (queries) or `phases[export]` (the file exports). */
function timedClient(client: ClickHouseClient, phases: Record<string, number>): ParquetQueryClient {
  const timed =
    <A extends unknown[], R>(phase: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await call(...args);
      } finally {
        phases[phase] = (phases[phase] ?? 0) + (performance.now() - start) / 1000;
      }
    };
  return {
    query: timed('plan', client.query.bind(client)) as ClickHouseClient['query'],
    command: timed('export', client.command.bind(client)),
    // The stream export's time runs until the file is on disk, which the source awaits after exec returns.
    exec: async (params) => {
      const start = performance.now();
      const result = await client.exec(params);
      result.stream.once('close', () => (phases['export'] = (phases['export'] ?? 0) + (performance.now() - start) / 1000));
      return result;
    },
  };
}

/**
 * (b), (e), (g), (h) Coldtier: one run of the embedded runner, the window
 * written as Iceberg data files and committed with one fast append; to a
 * local warehouse in `out`, or to S3 when given a target.
 */
async function coldtier(client: ClickHouseClient, out: string, mode: ParquetExportMode, target?: ObjectStoreTarget): Promise<Timed> {
  const phases: Record<string, number> = { prepare: 0, plan: 0, export: 0, footer: 0, commit: 0 };
  const parsed = tableSchema.parse({
    source: `${DATABASE}.${TABLE}`,
    target: `${target?.namespace ?? 'cold'}.${TABLE}`,
    layer: 'bronze',
    timestampColumn: 'exchange_timestamp',
    sequenceColumn: 'sequence_number',
    final: true,
  });
  // partitionBy left empty: the runner's default spec, day(exchange_timestamp).
  const table: TableConfig = { ...parsed, name: TABLE, partitionBy: parsed.partitionBy ?? [] };
  const reached: Partial<Record<EmbeddedStage, number>> = {};
  const catalog = target ? objectStoreCatalog(target) : new FilesystemCatalog({ warehouse: out });
  // A window as the daemon offloads it every 15 minutes: its process loaded the S3 client (0.11 s) and
  // reached the store once, long before (`coldtier run --once` pays that once per run, outside the window).
  if (target) await catalog.io.exists(target.root);
  const runner = new EmbeddedIcebergRunner({
    clickhouse: timedClient(client, phases),
    catalog,
    exportMode: mode,
    ...(target ? { storage: target.storage } : {}),
    onStage: (stage) => {
      reached[stage] = performance.now();
      // Queries before `planned` read system.columns: preparing, not planning files.
      if (stage === 'planned') phases['plan'] = 0;
    },
  });
  const start = performance.now();
  const result = await runner.run(
    { runId: 'bench', table, window: { after: INITIAL_CURSOR, untilMicros: parseMicros(UNTIL) }, attempt: 1 },
    new AbortController().signal,
  );
  const end = performance.now();
  const at = (stage: EmbeddedStage) => reached[stage] ?? end;
  phases['prepare'] = (at('planned') - start) / 1000;
  phases['footer'] = (at('files_written') - at('planned')) / 1000 - phases['plan']! - phases['export']!;
  phases['commit'] = (end - at('files_written')) / 1000;
  const location = (await catalog.loadTable({ namespace: [target?.namespace ?? 'cold'], name: TABLE })).metadata.location;
  const files = target ? await parquetObjects(target, location) : (await sizeOf(out)).files;
  return { seconds: (end - start) / 1000, bytes: result.bytesWritten, files, phases };
}

/** (c) ClickHouse's own Iceberg writer (experimental): INSERT into an IcebergLocal table partitioned by day. */
async function clickhouseIceberg(client: ClickHouseClient, out: string): Promise<Timed> {
  // ClickHouse 26.7's Iceberg writer refuses decimal types: UInt64 goes as long, Decimal64(8) as double here.
  const query = WINDOW_QUERY.replaceAll('Decimal(20, 0)', 'Int64').replaceAll('Decimal(18, 8)', 'Float64');
  const described = await client.query({ query: `DESCRIBE (${query})`, format: 'JSONEachRow' });
  const columns = (await described.json<{ name: string; type: string }>()).map((c) => `\`${c.name}\` ${c.type}`).join(', ');
  const settings = { ...PARQUET_OUTPUT_SETTINGS, allow_experimental_insert_into_iceberg: 1 };
  const location = join(out, 'ice');
  await client.command({
    query: `CREATE TABLE ${DATABASE}.ice (${columns}) ENGINE = IcebergLocal('${location}', 'Parquet') PARTITION BY toRelativeDayNum(exchange_timestamp)`,
    clickhouse_settings: settings,
  });
  const start = performance.now();
  await client.command({ query: `INSERT INTO ${DATABASE}.ice ${query}`, clickhouse_settings: settings });
  const seconds = (performance.now() - start) / 1000;
  await client.command({ query: `DROP TABLE ${DATABASE}.ice` });
  return { seconds, ...(await sizeOf(location)), phases: {} };
}

async function main(): Promise<void> {
  const [kind, dataDir, out, rowsArg, modeArg = 'server-side'] = process.argv.slice(2);
  if (!kind || !dataDir || !out || !rowsArg) throw new Error('usage: measure.js <kind> <chdb dir | server URL> <output dir> <rows> [stream|server-side]');
  if (modeArg !== 'stream' && modeArg !== 'server-side') throw new Error(`export mode: expected stream or server-side, got ${modeArg}`);
  const overHttp = kind === 'download' || kind === 'coldtier-http' || kind.startsWith('s3-');
  const client = overHttp ? openHttp(dataDir) : await open(dataDir);
  try {
    let timed: Timed;
    if (kind === 'download') {
      timed = await downloadParquet(dataDir, out);
    } else if (kind === 'coldtier-http') {
      timed = await coldtier(client, out, 'stream');
    } else if (kind === 's3-clickhouse') {
      timed = { ...(await clickhouseToS3(client, objectStoreTarget(out))), phases: {} };
    } else if (kind === 's3-server-side' || kind === 's3-stream') {
      timed = await coldtier(client, out, kind === 's3-stream' ? 'stream' : 'server-side', objectStoreTarget(out));
    } else if (kind === 'setup') {
      const start = performance.now();
      await createBronze(client, Number(rowsArg));
      timed = { seconds: (performance.now() - start) / 1000, bytes: 0, files: 0, phases: {} };
    } else {
      await client.command({ query: `SYSTEM STOP MERGES ${DATABASE}.${TABLE}` });
      const run = { export: exportParquet, coldtier: (c: ClickHouseClient, o: string) => coldtier(c, o, modeArg), 'clickhouse-iceberg': clickhouseIceberg }[kind];
      if (!run) throw new Error(`unknown measurement ${kind}`);
      timed = await run(client, out);
    }
    const rows = await count(client);
    const usage = process.resourceUsage();
    const measurement: Measurement = { kind, rows, ...timed, maxRssMiB: usage.maxRSS / 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 };
    console.log(RESULT_PREFIX + JSON.stringify(measurement));
  } finally {
    await client.close();
  }
}

await main();
