import { join } from 'node:path';
import { runSparkSql } from './spark.js';

/** Spark's name for the Hadoop catalog the fixture tables are written through. */
export const SPARK_FIXTURE_CATALOG = 'fixture';

/** A table for Spark to create: `cold.<name>` with one row, `(1, 'BTC/USDT', 50000.0)`. */
export interface SparkFixtureTableRequest {
  readonly name: string;
  /** Extra table properties, e.g. `{ 'write.metadata.compression-codec': 'gzip' }`. */
  readonly properties?: Readonly<Record<string, string>>;
}

/** What Spark itself reports about a table it wrote: the reference the tests hold our readers to. */
export interface SparkFixtureTable {
  readonly name: string;
  readonly location: string;
  readonly snapshotId: bigint;
  readonly dataFile: { readonly path: string; readonly sizeInBytes: number; readonly recordCount: number };
}

export interface SparkFixture {
  /** The Hadoop-layout warehouse: `<dir>/warehouse`. */
  readonly warehouse: string;
  readonly tables: readonly SparkFixtureTable[];
}

/** The `--conf` settings of a Hadoop catalog named `name` on `warehouse`. */
export function hadoopCatalogConf(name: string, warehouse: string): Record<string, string> {
  return {
    [`spark.sql.catalog.${name}`]: 'org.apache.iceberg.spark.SparkCatalog',
    [`spark.sql.catalog.${name}.type`]: 'hadoop',
    [`spark.sql.catalog.${name}.warehouse`]: warehouse,
  };
}

/**
 * Real Spark (one session for all the tables) writes `trades_test`-style
 * tables into `<dir>/warehouse`: CREATE TABLE then one INSERT, so each table has
 * `v1` and `v2` metadata and one append snapshot. Everything stays under `dir`.
 */
export async function createSparkFixture(dir: string, tables: readonly SparkFixtureTableRequest[]): Promise<SparkFixture> {
  const warehouse = join(dir, 'warehouse');
  const statements = tables.flatMap((table) => {
    const target = `${SPARK_FIXTURE_CATALOG}.cold.${table.name}`;
    const properties = Object.entries({ 'format-version': '2', ...table.properties })
      .map(([key, value]) => `'${key}'='${value}'`)
      .join(', ');
    return [
      `CREATE TABLE ${target} (trade_id BIGINT, symbol STRING, price DOUBLE) USING iceberg TBLPROPERTIES (${properties})`,
      `INSERT INTO ${target} VALUES (1, 'BTC/USDT', 50000.0)`,
      // Cast: JSON numbers would lose the 63-bit id's low digits.
      `SELECT CAST(snapshot_id AS STRING) AS snapshot_id FROM ${target}.snapshots`,
      `SELECT file_path, file_size_in_bytes, record_count FROM ${target}.files`,
    ];
  });
  const results = await runSparkSql({
    localDir: dir,
    conf: hadoopCatalogConf(SPARK_FIXTURE_CATALOG, warehouse),
    statements,
  });
  return {
    warehouse,
    tables: tables.map((table, i) => {
      const [snapshot] = results[i * 4 + 2] ?? [];
      const [file] = results[i * 4 + 3] ?? [];
      if (!snapshot || !file) throw new Error(`Spark did not report ${table.name}'s snapshot and file`);
      return {
        name: table.name,
        location: join(warehouse, 'cold', table.name),
        snapshotId: BigInt(String(snapshot['snapshot_id'])),
        dataFile: {
          path: String(file['file_path']).replace(/^file:/, ''),
          sizeInBytes: Number(file['file_size_in_bytes']),
          recordCount: Number(file['record_count']),
        },
      };
    }),
  };
}
