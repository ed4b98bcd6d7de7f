import type { ClickHouseClient } from '@clickhouse/client';
import type { TableConfig } from '@coldtier/offload-core';
import type { ThresholdSet } from '../../thresholds/index.js';
import { grade } from '../../evaluate/index.js';
import { evidenceOf, stepResult } from '../grade.js';
import { attempt, qualifiedSource, selectRows, toNumber } from '../probe.js';
import type { Evidence, StepResult, TableParts } from '../types.js';

const PARTS_QUERY = `SELECT database, table, sum(n) AS parts, max(n) AS max_per_partition, sum(r) AS rows, sum(b) AS bytes
FROM (
  SELECT database, table, partition_id, count() AS n, sum(rows) AS r, sum(bytes_on_disk) AS b
  FROM system.parts
  WHERE active AND concat(database, '.', table) IN {names:Array(String)}
  GROUP BY database, table, partition_id
)
GROUP BY database, table`;

const TABLES_QUERY = `SELECT concat(database, '.', name) AS qualified FROM system.tables WHERE concat(database, '.', name) IN {names:Array(String)}`;

interface PartsRow {
  database: string;
  table: string;
  parts: unknown;
  max_per_partition: unknown;
  rows: unknown;
  bytes: unknown;
}

/**
 * Step "check for table fragmentation" (runbook scenario 4, step 2): active
 * parts per source table. A table absent from `system.tables` is `unknown`,
 * not "0 parts", so a typo in the config is not reported healthy.
 */
export async function parts(client: ClickHouseClient, tables: readonly TableConfig[], thresholds: ThresholdSet): Promise<StepResult<readonly TableParts[]>> {
  const names = tables.map(qualifiedSource);
  const empty = (t: TableConfig): TableParts => ({ table: t.name, source: t.source, status: 'unknown', activeParts: 0, maxPartsPerPartition: 0, rows: 0, bytes: 0 });
  const existing = await attempt('system.tables', () => selectRows<{ qualified: string }>(client, TABLES_QUERY, { names }));
  const found = await attempt('system.parts', () => selectRows<PartsRow>(client, PARTS_QUERY, { names }));
  if (!existing.ok || !found.ok) {
    const reason = [existing, found].flatMap((p) => (p.ok ? [] : [p.reason])).join('; ');
    return stepResult(tables.map(empty), ['unknown'], [], [reason]);
  }
  const present = new Set(existing.value.map((r) => r.qualified));
  const byName = new Map(found.value.map((r) => [`${r.database}.${r.table}`, r]));
  const missing: string[] = [];
  const evidence: Evidence[] = [];
  const data = tables.map((t, i): TableParts => {
    const name = names[i]!;
    if (!present.has(name)) {
      missing.push(name);
      return empty(t);
    }
    const row = byName.get(name);
    const activeParts = toNumber(row?.parts);
    const graded = grade(thresholds.get('partsCount', t.name), activeParts, { table: t.name });
    evidence.push(...evidenceOf([graded]));
    return {
      table: t.name,
      source: t.source,
      status: graded.level,
      activeParts,
      maxPartsPerPartition: toNumber(row?.max_per_partition),
      rows: toNumber(row?.rows),
      bytes: toNumber(row?.bytes),
    };
  });
  const reasons = missing.length > 0 ? [`source tables not found in system.tables: ${missing.join(', ')}`] : [];
  return stepResult(data, data.map((d) => d.status), evidence, reasons);
}
