import type { PartitionField, TableConfig } from '../config/index.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { parseQualifiedName } from '../identifiers/index.js';
import { parseClickHouseType, unwrapClickHouseType, type ClickHouseType } from '../iceberg/schema-mapping/clickhouse-type.js';
import { describeClickHouseColumns, type ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import type { ClickHouseColumn } from '../iceberg/schema-mapping/evolve.js';

const isTime = (t: ClickHouseType) => t.kind === 'date' || t.kind === 'dateTime' || t.kind === 'dateTime64';
const isInteger = (t: ClickHouseType) => t.kind === 'int';

/** Which base types (Nullable/LowCardinality stripped) each partition transform accepts, as Iceberg defines them. */
function transformAccepts(transform: PartitionField['transform'], type: ClickHouseType): boolean {
  if (transform === 'year' || transform === 'month' || transform === 'day') return isTime(type);
  if (transform === 'hour') return type.kind === 'dateTime' || type.kind === 'dateTime64';
  if (transform.startsWith('truncate')) return isInteger(type) || type.kind === 'decimal' || type.kind === 'string' || type.kind === 'fixedString';
  if (transform.startsWith('bucket')) return !['float', 'bool', 'array', 'map', 'tuple'].includes(type.kind);
  return !['array', 'map', 'tuple'].includes(type.kind);
}

function parseable(text: string): ClickHouseType | undefined {
  try {
    return parseClickHouseType(text);
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with table number `index`'s column settings against the
 * source's actual columns (`system.columns`): a missing table or column, a
 * timestamp that is not a Date/DateTime, a sequence that is not an integer
 * (a cursor column must not be Nullable), a partition transform the column's
 * type does not support. Pure: the caller reads the columns.
 */
export function sourceColumnIssues(table: TableConfig, index: number, columns: readonly ClickHouseColumn[]): ConfigIssue[] {
  const at = (key: string) => `tables[${index}].${key}`;
  if (columns.length === 0) return [{ path: at('source'), message: `${table.source} does not exist in ClickHouse` }];
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const issues: ConfigIssue[] = [];
  const check = (key: string, column: string, ok: (t: ClickHouseType, nullable: boolean) => boolean, expected: string) => {
    const text = types.get(column);
    if (text === undefined) {
      issues.push({ path: at(key), message: `${table.source} has no column ${JSON.stringify(column)}` });
      return;
    }
    const parsed = parseable(text);
    const { type, nullable } = parsed ? unwrapClickHouseType(parsed) : { type: undefined, nullable: false };
    if (!type || !ok(type, nullable)) issues.push({ path: at(key), message: `column ${JSON.stringify(column)} of ${table.source} is ${text}; expected ${expected}` });
  };
  check('timestampColumn', table.timestampColumn, (t, n) => isTime(t) && !n, 'Date, Date32, DateTime or DateTime64 (not Nullable)');
  check('sequenceColumn', table.sequenceColumn, (t, n) => isInteger(t) && !n, 'an integer type such as UInt64 (not Nullable)');
  table.tieBreakerColumns.forEach((column, j) => check(`tieBreakerColumns[${j}]`, column, (_t, n) => !n, 'a column that is not Nullable'));
  if (table.columns !== 'all') table.columns.forEach((column, j) => check(`columns[${j}]`, column, () => true, ''));
  table.partitionBy.forEach((field, j) =>
    check(`partitionBy[${j}].column`, field.column, (t) => transformAccepts(field.transform, t), `a type ${field.transform} partitioning supports`),
  );
  return issues;
}

/**
 * Checks every table's cursor, column and partition settings against
 * ClickHouse once, at start-up, so a wrong type is a configuration error
 * naming the key instead of a run that offloads nothing or fails each cycle.
 */
export async function checkSourceColumns(client: ParquetQueryClient, tables: readonly TableConfig[], source?: string): Promise<void> {
  const issues: ConfigIssue[] = [];
  for (const [index, table] of tables.entries()) {
    issues.push(...sourceColumnIssues(table, index, await describeClickHouseColumns(client, parseQualifiedName(table.source))));
  }
  if (issues.length > 0) throw new ConfigError(issues, source === undefined ? {} : { source });
}
