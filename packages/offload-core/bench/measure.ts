/**
 * One measurement, run in a child process of its own (chdb binds one data
 * directory per process, and the process's peak RSS is the measurement's).
 * Usage: node measure.js <setup|export|coldtier|clickhouse-iceberg> <chdb dir> <output dir> <rows>
 * Prints one `BENCH_RESULT {json}` line.
 */
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import {
  ClickHouseParquetSource,
  FilesystemCatalog,
  INITIAL_CURSOR,
  cursorToJson,
  describeClickHouseColumns,
  evolveSchema,
  fastAppend,
  parseMicros,
} from '@coldtier/offload-core';
import { DATABASE, TABLE, UNTIL, WINDOW_QUERY, createBronze } from './bronze.js';

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** The settings Coldtier's writer exports with (PARQUET_OUTPUT_SETTINGS), for the baselines too. */
const PARQUET_SETTINGS = {
  output_format_parquet_string_as_string: 1,
  output_format_parquet_fixed_string_as_fixed_byte_array: 1,
  output_format_parquet_datetime_as_uint32: 0,
  output_format_parquet_compression_method: 'zstd',
  output_format_parquet_write_page_index: 1,
} as const;

export interface Measurement {
  readonly kind: string;
  readonly rows: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly files: number;
  readonly maxRssMiB: number;
  /** Seconds per phase, where the measurement has phases. */
  readonly phases: Readonly<Record<string, number>>;
}

type Timed = { seconds: number; bytes: number; files: number; phases: Record<string, number> };

function open(path: string): ClickHouseClient {
  const connection = createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  return createClient({ connection });
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
    clickhouse_settings: { ...PARQUET_SETTINGS, engine_file_truncate_on_insert: 1 },
  });
  return { seconds: (performance.now() - start) / 1000, ...(await sizeOf(out)), phases: {} };
}

/** (b) Coldtier: the window written as Iceberg data files and committed with one fast append. */
async function coldtier(client: ClickHouseClient, out: string): Promise<Timed> {
  const phases = { plan: 0, export: 0, footer: 0, commit: 0 };
  // Splits the writer's time: cursor-planning queries vs the Parquet export streams.
  const timed = {
    query: async (params: Parameters<ClickHouseClient['query']>[0]) => {
      const t = performance.now();
      try {
        return await client.query(params);
      } finally {
        phases.plan += (performance.now() - t) / 1000;
      }
    },
    exec: async (params: Parameters<ClickHouseClient['exec']>[0]) => {
      const t = performance.now();
      const result = await client.exec(params);
      result.stream.once('close', () => (phases.export += (performance.now() - t) / 1000));
      return result;
    },
  } as Pick<ClickHouseClient, 'query' | 'exec'>;
  const source = { namespace: DATABASE, name: TABLE };
  const columns = await describeClickHouseColumns(client, source);
  const schema = evolveSchema(undefined, columns, { mode: 'fail' }).schema;
  const ts = schema.fields.find((f) => f.name === 'exchange_timestamp')!;
  const spec = { 'spec-id': 0, fields: [{ 'source-id': ts.id, 'field-id': 1000, name: 'exchange_timestamp_day', transform: 'day' }] };
  const catalog = new FilesystemCatalog({ warehouse: out });
  const id = { namespace: ['cold'], name: 'bronze_trades_binance' };
  await catalog.createTable(id, { schema, spec });

  const start = performance.now();
  const written = await new ClickHouseParquetSource(timed, { targetFileSizeBytes: 128 * 1024 * 1024 }).writeWindow({
    table: { name: TABLE, source, timestampColumn: 'exchange_timestamp', sequenceColumn: 'sequence_number', tieBreakerColumns: [], final: true },
    schema,
    columns,
    partitionSpec: spec,
    window: { after: INITIAL_CURSOR, untilMicros: parseMicros(UNTIL) },
    tableLocation: catalog.tableLocation(id),
    runId: 'bench',
  });
  const written_at = performance.now();
  phases.footer = (written_at - start) / 1000 - phases.plan - phases.export;
  await fastAppend(catalog, id, written.dataFiles, {
    snapshotProperties: { 'coldtier.watermark': JSON.stringify(cursorToJson(written.maxCursor!)) },
  });
  phases.commit = (performance.now() - written_at) / 1000;
  return { seconds: (performance.now() - start) / 1000, bytes: Number(written.bytes), files: written.dataFiles.length, phases };
}

/** (c) ClickHouse's own Iceberg writer (experimental): INSERT into an IcebergLocal table partitioned by day. */
async function clickhouseIceberg(client: ClickHouseClient, out: string): Promise<Timed> {
  // ClickHouse 26.7's Iceberg writer refuses decimal types: UInt64 goes as long, Decimal64(8) as double here.
  const query = WINDOW_QUERY.replaceAll('Decimal(20, 0)', 'Int64').replaceAll('Decimal(18, 8)', 'Float64');
  const described = await client.query({ query: `DESCRIBE (${query})`, format: 'JSONEachRow' });
  const columns = (await described.json<{ name: string; type: string }>()).map((c) => `\`${c.name}\` ${c.type}`).join(', ');
  const settings = { ...PARQUET_SETTINGS, allow_experimental_insert_into_iceberg: 1 };
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
  const [kind, dataDir, out, rowsArg] = process.argv.slice(2);
  if (!kind || !dataDir || !out || !rowsArg) throw new Error('usage: measure.js <kind> <chdb dir> <output dir> <rows>');
  const client = open(dataDir);
  try {
    let timed: Timed;
    if (kind === 'setup') {
      const start = performance.now();
      await createBronze(client, Number(rowsArg));
      timed = { seconds: (performance.now() - start) / 1000, bytes: 0, files: 0, phases: {} };
    } else {
      await client.command({ query: `SYSTEM STOP MERGES ${DATABASE}.${TABLE}` });
      const run = { export: exportParquet, coldtier, 'clickhouse-iceberg': clickhouseIceberg }[kind];
      if (!run) throw new Error(`unknown measurement ${kind}`);
      timed = await run(client, out);
    }
    const rows = await count(client);
    const measurement: Measurement = { kind, rows, ...timed, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
    console.log(RESULT_PREFIX + JSON.stringify(measurement));
  } finally {
    await client.close();
  }
}

await main();
