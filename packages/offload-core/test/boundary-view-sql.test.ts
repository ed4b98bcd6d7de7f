import { describe, expect, it } from 'vitest';
import { OffloadError, boundaryViewSql, parseConfig, parseMicros } from '../src/index.js';
import { parseClickHouseType } from '../src/iceberg/schema-mapping/clickhouse-type.js';

const table = parseConfig({
  tables: [{ source: 'k2.silver', target: 'cold.silver', layer: 'silver', timestampColumn: 'ts', sequenceColumn: 'seq', tieBreakerColumns: ['venue'] }],
}).tables[0]!;
const columns = [
  { name: 'ts', type: "DateTime64(3, 'UTC')" },
  { name: 'seq', type: 'UInt64' },
  { name: 'venue', type: 'String' },
];
const cursorColumns = { timestamp: 'ts', sequence: 'seq', tieBreakers: [{ name: 'venue', type: parseClickHouseType('String') }] };
const boundary = { timestampMicros: parseMicros('2026-12-01T10:00:00.123456Z'), sequence: 18_446_744_073_709_551_615n, tieBreakers: ["o'hare\\x"] };

describe('the view over both tiers as SQL', () => {
  it('splits at the boundary with literal values, casting Iceberg columns back to the source types', () => {
    const sql = boundaryViewSql({
      table,
      columns,
      cursorColumns,
      boundary,
      iceberg: { location: '/data/wh/cold/silver', metadataLocation: '/data/wh/cold/silver/metadata/v7.metadata.json' },
      pathBase: '/data',
      storage: {},
    });
    const [hot, cold] = sql.split(' UNION ALL ');
    expect(hot).toBe(
      'CREATE OR REPLACE VIEW `k2`.`silver_all` AS SELECT `ts`, `seq`, `venue` FROM `k2`.`silver`' +
        " WHERE `ts` >= fromUnixTimestamp64Micro(CAST('1796119200123456' AS Int64), 'UTC')" +
        " AND (`ts`, `seq`, `venue`) > (fromUnixTimestamp64Micro(CAST('1796119200123456' AS Int64), 'UTC'), CAST('18446744073709551615' AS Int128), CAST('o\\'hare\\\\x' AS String))",
    );
    expect(cold).toBe(
      "SELECT `ts`, `seq`, `venue` FROM (SELECT CAST(`ts` AS DateTime64(3, 'UTC')) AS `ts`, CAST(`seq` AS UInt64) AS `seq`, CAST(`venue` AS String) AS `venue`" +
        " FROM icebergLocal('wh/cold/silver', SETTINGS iceberg_metadata_file_path = 'metadata/v7.metadata.json'))" +
        " WHERE `ts` <= fromUnixTimestamp64Micro(CAST('1796119200123456' AS Int64), 'UTC')" +
        " AND (`ts`, `seq`, `venue`) <= (fromUnixTimestamp64Micro(CAST('1796119200123456' AS Int64), 'UTC'), CAST('18446744073709551615' AS Int128), CAST('o\\'hare\\\\x' AS String))",
    );
  });

  it('reads every row from the hot table before the first commit', () => {
    expect(boundaryViewSql({ table: { ...table, final: true }, columns, cursorColumns, boundary: null, iceberg: null, pathBase: undefined, storage: {} })).toBe(
      'CREATE OR REPLACE VIEW `k2`.`silver_all` AS SELECT `ts`, `seq`, `venue` FROM `k2`.`silver` FINAL',
    );
  });

  const cold = (spec: Partial<Parameters<typeof boundaryViewSql>[0]>) =>
    boundaryViewSql({ table, columns, cursorColumns, boundary, iceberg: null, pathBase: undefined, storage: {}, ...spec }).split(' UNION ALL ')[1]!;

  it('writes absolute paths for a server', () => {
    const iceberg = { location: 'file:///wh/t', metadataLocation: 'file:///wh/t/metadata/v1.metadata.json' };
    expect(cold({ iceberg })).toContain(" FROM icebergLocal('/wh/t', SETTINGS iceberg_metadata_file_path = 'metadata/v1.metadata.json'))");
  });

  it('reads a table on S3 through the named collection, pinned to the metadata file under the table location, with no credential in its text', () => {
    const store = { region: 'eu-west-1', endpoint: 'http://minio:9000', pathStyle: true };
    const s3 = { ...store, clickhouse: { namedCollection: 'lake_creds' } };
    const iceberg = { location: 's3://lake/cold/silver', metadataLocation: 's3://lake/cold/silver/metadata/00003-ab.metadata.json' };
    expect(cold({ iceberg, storage: { s3 } })).toContain(
      " FROM icebergS3(`lake_creds`, url = 'http://minio:9000/lake/cold/silver/', SETTINGS iceberg_metadata_file_path = 'metadata/00003-ab.metadata.json'))",
    );
    const refused = () => cold({ iceberg, storage: { s3: store } });
    expect(refused).toThrow(OffloadError);
    expect(refused).toThrow(/storage\.s3\.clickhouse\.namedCollection/);
  });
});
