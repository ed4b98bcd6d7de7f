import { fileURLToPath } from 'node:url';
import { createTempDir, runPyIceberg, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { Catalog, LoadedTable } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { currentSchema, defaultSpec } from '../src/iceberg/spec/table-metadata.js';
import type { IcebergType } from '../src/iceberg/spec/types.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { SUMMARY_RUN_ID, SUMMARY_SOURCE_TABLE, SUMMARY_WATERMARK } from '../src/runner/embedded/summary.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { cursorToJson } from '../src/watermark/cursor.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';
import type { WatermarkStore } from '../src/watermark/store.js';
import { bronzeDdl, bronzeInsert, cycles, tableConfig, useMigratedDatabase } from './embedded-helpers.js';

/**
 * PyIceberg, a second Iceberg implementation, reads what the embedded runner
 * wrote. Unlike ClickHouse's icebergLocal it resolves Parquet columns by
 * field id, decodes the manifests against the spec's Avro schemas and reads
 * the JDBC catalog's own tables, so a table it reads right is a table other
 * engines can read.
 */

const SCRIPT = fileURLToPath(new URL('interop/read_table.py', import.meta.url));
const DAY_TWO = { from: '2024-01-02T00:00:00+00:00', to: '2024-01-03T00:00:00+00:00' };

type Aggregates = Record<string, string | string[]>;

interface PyIcebergView {
  readonly catalog: { namespaces: string[]; namespace_properties: Record<string, string>; tables: string[] } | null;
  readonly format_version: number;
  readonly fields: { path: string; id: number; type: string; required: boolean }[];
  readonly partition_spec: { name: string; transform: string; source_id: number }[];
  readonly current_snapshot: string;
  readonly snapshots: { id: string; parent: string | null; operation: string; coldtier: Record<string, string> }[];
  readonly manifests: number;
  readonly parquet_field_ids: Record<string, number | null>[];
  readonly files: number;
  readonly partitions: { partition: Record<string, string>; records: string; files: string }[];
  readonly data_files: {
    formats: string[];
    records: string;
    size_mismatches: string[];
    sequence_numbers: [string, number, number][];
    fee_nulls: string;
    bounds: Record<'sequence_number' | 'exchange_timestamp', { lower: string; upper: string }>;
  };
  readonly data: Aggregates;
  readonly filtered: { files: number; data: Aggregates };
}

let ch: EmbeddedClickHouse;
let temp: TempDir;

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

/** Runs read_table.py; it also scans day two through a PyIceberg row filter. */
async function pyiceberg(request: Record<string, unknown>): Promise<PyIcebergView> {
  const filter = `exchange_timestamp >= '${DAY_TWO.from}' AND exchange_timestamp < '${DAY_TWO.to}'`;
  const stdout = await runPyIceberg(SCRIPT, [JSON.stringify({ ...request, filter })]);
  return JSON.parse(stdout) as PyIcebergView;
}

async function query<T>(sql: string): Promise<T[]> {
  const result = await ch.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
  return result.json<T>();
}

/** The aggregates read_table.py computes, by ClickHouse over the deduplicated source. */
async function sourceAggregates(source: string, where = '1'): Promise<Aggregates> {
  // At the column's scale (8), as PyIceberg's Decimal prints it: trailing zeros kept.
  const decimalSum = (c: string): string => `toDecimalString(sum(${c}), 8) AS ${c}_sum`;
  const [row] = await query<Aggregates>(
    `SELECT toString(count()) AS rows, toString(sum(sequence_number)) AS sequence_sum, toString(sum(_version)) AS version_sum,
       ${['price', 'quantity', 'quote_volume'].map(decimalSum).join(', ')},
       arraySort(groupUniqArray(toString(exchange))) AS exchanges, arraySort(groupUniqArray(toString(symbol))) AS symbols,
       arraySort(groupUniqArray(toString(side))) AS sides, toString(uniqExact(trade_id)) AS trade_ids,
       toString(sum(length(metadata))) AS metadata_bytes, toString(sum(toUnixTimestamp64Micro(exchange_timestamp))) AS timestamp_sum,
       toString(min(toUnixTimestamp64Micro(exchange_timestamp))) AS timestamp_min, toString(max(toUnixTimestamp64Micro(exchange_timestamp))) AS timestamp_max,
       toString(count(fee)) AS fee_non_null, toString(sum(length(tags))) AS tags_total, toString(sum(length(attrs))) AS attrs_total
     FROM ${source} FINAL WHERE ${where}`,
  );
  return row!;
}

/** Every field of our schema as read_table.py lists PyIceberg's: dotted path, id, type, required. */
function ourFields(type: IcebergType, path: string, id: number, required: boolean): PyIcebergView['fields'] {
  if (typeof type === 'string') return [{ path, id, type, required }];
  const self = { path, id, type: type.type, required };
  switch (type.type) {
    case 'struct':
      return [self, ...type.fields.flatMap((f) => ourFields(f.type, `${path}.${f.name}`, f.id, f.required))];
    case 'list':
      return [self, ...ourFields(type.element, `${path}.element`, type['element-id'], type['element-required'])];
    case 'map':
      return [self, ...ourFields(type.key, `${path}.key`, type['key-id'], true), ...ourFields(type.value, `${path}.value`, type['value-id'], type['value-required'])];
  }
}

/** Two cycles over ~2,000 bronze rows spanning three days; the second overlaps the first's last day. */
async function offload(name: string, store: WatermarkStore, runner: EmbeddedIcebergRunner, catalog: Catalog): Promise<LoadedTable> {
  const source = `k2.${name}`;
  await ch.client.command({ query: bronzeDdl(source) });
  await ch.client.command({ query: bronzeInsert(source, 0, 1200) });
  // Newer versions of some rows: FINAL keeps only these, and so must Iceberg.
  await ch.client.command({ query: `SYSTEM STOP MERGES ${source}` });
  await ch.client.command({ query: bronzeInsert(source, 0, 50, 2) });
  const clock = new ManualClock(new Date('2024-01-02T06:00:00Z'));
  const orchestrator = cycles([tableConfig({ name })], store, runner, clock);
  expect((await orchestrator.runCycle()).status).toBe('success');
  await ch.client.command({ query: bronzeInsert(source, 1200, 2000) });
  clock.set(new Date('2024-01-04T00:00:00Z'));
  expect((await orchestrator.runCycle()).status).toBe('success');
  return catalog.loadTable({ namespace: ['cold'], name });
}

/** What PyIceberg saw must be what we wrote and what ClickHouse holds. */
async function expectSameTable(view: PyIcebergView, name: string, table: LoadedTable, store: WatermarkStore): Promise<void> {
  const source = `k2.${name}`;
  expect(view.format_version).toBe(2);

  // Field ids, names, types and nullability as in our metadata, nested ids included.
  const schema = currentSchema(table.metadata);
  const ours = schema.fields.flatMap((f) => ourFields(f.type, f.name, f.id, f.required));
  expect(view.fields).toEqual(ours);
  expect(view.fields.map((f) => f.path)).toEqual(expect.arrayContaining(['tags.element', 'attrs.key', 'attrs.value', 'fee']));
  // Every data file's Parquet footer carries the same ids, down to list elements and map keys/values.
  expect(view.parquet_field_ids).toEqual([Object.fromEntries(ours.map((f) => [f.path, f.id]))]);

  // Every column's aggregate equals ClickHouse's over the source, read through field ids.
  const all = await sourceAggregates(source);
  // 2,000 rows, 50 of them at their second version: FINAL's rows, not the 2,050 stored.
  expect([all['rows'], all['version_sum']]).toEqual(['2000', '2050']);
  expect(view.data).toEqual(all);
  expect(view.data_files).toMatchObject({ formats: ['PARQUET'], records: '2000', size_mismatches: [], fee_nulls: String(2000 - Number(all['fee_non_null'])) });

  // Two appends, a manifest list of two manifests, and our coldtier.* properties on each snapshot.
  const ancestry = mainAncestry(table.metadata);
  expect(view.snapshots).toHaveLength(2);
  expect(view.current_snapshot).toBe(ancestry[0]!.snapshotId.toString());
  expect(view.snapshots.map((s) => s.id).sort()).toEqual(ancestry.map((s) => s.snapshotId.toString()).sort());
  expect(view.manifests).toBe(2);
  // Each snapshot's files carry its sequence number, inherited through the manifest list.
  const [second, first] = ancestry.map((s) => s.snapshotId.toString());
  expect(view.snapshots.find((s) => s.id === second)?.parent).toBe(first);
  expect([...view.data_files.sequence_numbers].sort()).toEqual([[first, 1, 1], [second, 2, 2]].sort());
  for (const snapshot of ancestry) {
    const seen = view.snapshots.find((s) => s.id === snapshot.snapshotId.toString())!;
    expect(seen.operation).toBe('append');
    expect(seen.coldtier).toEqual({
      [SUMMARY_RUN_ID]: snapshot.summary[SUMMARY_RUN_ID],
      [SUMMARY_SOURCE_TABLE]: source,
      [SUMMARY_WATERMARK]: snapshot.summary[SUMMARY_WATERMARK],
    });
  }
  const current = view.snapshots.find((s) => s.id === view.current_snapshot)!;
  expect(current.coldtier[SUMMARY_WATERMARK]).toBe(JSON.stringify(cursorToJson((await store.get(name))!.cursor)));

  await expectSanePartitions(view, source, table);
}

/** Partition tuples, column bounds and pruning as PyIceberg decodes them from the manifests. */
async function expectSanePartitions(view: PyIcebergView, source: string, table: LoadedTable): Promise<void> {
  const spec = defaultSpec(table.metadata);
  expect(view.partition_spec).toEqual(spec.fields.map((f) => ({ name: f.name, transform: f.transform, source_id: f['source-id'] })));
  const days = await query<{ day: string; records: string }>(
    `SELECT toString(toDate(exchange_timestamp, 'UTC')) AS day, toString(count()) AS records FROM ${source} FINAL GROUP BY day ORDER BY day`,
  );
  expect(days).toHaveLength(3);
  expect(view.partitions.map((p) => ({ day: p.partition['exchange_timestamp_day'], records: p.records }))).toEqual(days);
  // The second cycle added to the middle day, so that partition has files from both snapshots.
  expect(Number(view.partitions[1]!.files)).toBeGreaterThanOrEqual(2);

  const [range] = await query<{ seqMin: string; seqMax: string; tsMin: string; tsMax: string }>(
    `SELECT toString(min(sequence_number)) AS seqMin, toString(max(sequence_number)) AS seqMax,
       toString(min(toUnixTimestamp64Micro(exchange_timestamp))) AS tsMin, toString(max(toUnixTimestamp64Micro(exchange_timestamp))) AS tsMax
     FROM ${source} FINAL`,
  );
  expect(view.data_files.bounds).toEqual({
    sequence_number: { lower: range!.seqMin, upper: range!.seqMax },
    exchange_timestamp: { lower: range!.tsMin, upper: range!.tsMax },
  });

  // A filter on the partition source column prunes to that day's files and returns exactly that day's rows.
  expect(view.filtered.files).toBe(Number(view.partitions[1]!.files));
  expect(view.filtered.files).toBeLessThan(view.files);
  const at = (iso: string): string => `parseDateTime64BestEffort('${iso}', 3)`;
  const dayTwo = await sourceAggregates(source, `exchange_timestamp >= ${at(DAY_TWO.from)} AND exchange_timestamp < ${at(DAY_TWO.to)}`);
  expect(dayTwo['rows']).toBe(days[1]!.records);
  expect(view.filtered.data).toEqual(dayTwo);
}

// A Python process importing PyIceberg and pyarrow, twice per test: seconds on a quiet machine, far more on a loaded one.
const PYTHON_READER_TIMEOUT_MS = 120_000;

describe('PyIceberg reads the tables the embedded runner writes', () => {
  it('filesystem catalog: a StaticTable at the current metadata file', async () => {
    const catalog = new FilesystemCatalog({ warehouse: `${temp.path}/fs` });
    const store = new InMemoryWatermarkStore();
    const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, targetFileSizeBytes: 64 * 1024 });
    const table = await offload('bronze_fs', store, runner, catalog);
    const view = await pyiceberg({ static: table.metadataLocation });
    expect(view.catalog).toBeNull();
    await expectSameTable(view, 'bronze_fs', table, store);
  }, PYTHON_READER_TIMEOUT_MS);

  describe('SQL catalog on PostgreSQL', () => {
    const db = useMigratedDatabase();

    it("PyIceberg's SqlCatalog finds the table in the JDBC catalog tables", async () => {
      const catalog = new SqlCatalog({ name: 'coldtier', pool: db.pool, io: new LocalFileIO(), warehouse: `${temp.path}/sql` });
      await catalog.initialize();
      const store = new PostgresWatermarkStore({ pool: db.pool });
      const runner = new EmbeddedIcebergRunner({ clickhouse: ch.client, catalog, sharedTransaction: { store } });
      const table = await offload('bronze_sql', store, runner, catalog);
      const uri = db.url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
      const view = await pyiceberg({ sql: { name: 'coldtier', uri, table: 'cold.bronze_sql' } });
      expect(view.catalog).toEqual({ namespaces: ['cold'], namespace_properties: { exists: 'true' }, tables: ['cold.bronze_sql'] });
      await expectSameTable(view, 'bronze_sql', table, store);
    }, PYTHON_READER_TIMEOUT_MS);
  });
});
