import type { TableConfig } from '../config/index.js';
import { UnknownTableError } from '../errors.js';
import { parseQualifiedName } from '../identifiers/index.js';
import { parseClickHouseType } from '../iceberg/schema-mapping/clickhouse-type.js';
import { describeClickHouseColumns, type ParquetQueryClient } from '../iceberg/writer/clickhouse-parquet-source.js';
import type { CursorColumns } from '../iceberg/writer/window-sql.js';

/**
 * The table's cursor columns with the ClickHouse types of its tie-breakers,
 * read from the source; an absent table or column is an `UnknownTableError`.
 */
export async function describeCursorColumns(client: ParquetQueryClient, table: TableConfig, signal?: AbortSignal): Promise<CursorColumns> {
  const columns = await describeClickHouseColumns(client, parseQualifiedName(table.source), signal);
  if (columns.length === 0) throw new UnknownTableError(table.name, `${table.source} does not exist in ClickHouse`);
  const types = new Map(columns.map((c) => [c.name, parseClickHouseType(c.type)]));
  const typeOf = (name: string) => {
    const type = types.get(name);
    if (!type) throw new UnknownTableError(table.name, `${table.source} has no column ${name}`);
    return type;
  };
  typeOf(table.timestampColumn);
  typeOf(table.sequenceColumn);
  return {
    timestamp: table.timestampColumn,
    sequence: table.sequenceColumn,
    tieBreakers: table.tieBreakerColumns.map((name) => ({ name, type: typeOf(name) })),
  };
}
