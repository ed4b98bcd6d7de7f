import type { ClickHouseClient } from '@clickhouse/client';
import { parseQualifiedName, quoteClickHouseQualified } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';
import type { ThresholdSet } from '../../thresholds/index.js';
import { grade } from '../../evaluate/index.js';
import { evidenceOf, stepResult } from '../grade.js';
import { DIAGNOSTICS_LOG_COMMENT, attempt, qualifiedSource, selectRows, toNumber } from '../probe.js';
import type { Probed } from '../probe.js';
import type { Evidence, LoggedQuery, QueryPerformance, RunningQuery, StepResult, StepStatus, TableQueries } from '../types.js';

const SLOWEST = 10;

/**
 * `tables` names what a query read, so matching is exact where the
 * runbook's `LIKE '%bronze_trades%'` also caught other tables.
 */
const WHERE_LOGGED = `type = 'QueryFinish'
  AND event_date >= toDate(fromUnixTimestamp({since:Int64}))
  AND event_time > fromUnixTimestamp({since:Int64})
  AND log_comment != {self:String}
  AND source_table IN {names:Array(String)}`;

/** The query log's statements, for `log` quoted (`system.query_log` or a table over a cluster's logs). */
function loggedStatements(log: string) {
  return {
    /** An empty log for the window means logging is off (or not flushed yet): nothing can be concluded. */
    any: `SELECT count() AS n FROM ${log}
WHERE event_date >= toDate(fromUnixTimestamp({since:Int64})) AND event_time > fromUnixTimestamp({since:Int64})`,
    byTable: `SELECT source_table AS table, count() AS queries, max(query_duration_ms) AS max_ms, countIf(query_duration_ms > {slowMs:UInt64}) AS slow
FROM ${log} ARRAY JOIN tables AS source_table
WHERE ${WHERE_LOGGED}
GROUP BY source_table`,
    slowest: `SELECT source_table AS table, query_duration_ms AS ms, read_rows, substring(query, 1, 200) AS query_text, toString(query_start_time) AS started_at
FROM ${log} ARRAY JOIN tables AS source_table
WHERE ${WHERE_LOGGED}
ORDER BY query_duration_ms DESC
LIMIT ${SLOWEST}`,
  };
}

/** `system.processes` has no table list, so running queries are matched by the table's name, as the runbook does. */
const RUNNING = `SELECT query, elapsed, read_rows FROM system.processes
WHERE query_id != queryID() AND multiSearchAnyCaseInsensitive(query, {names:Array(String)})`;

async function loggedQueries(client: ClickHouseClient, log: string, names: readonly string[], since: Date, slowMs: number) {
  const sql = loggedStatements(log);
  const params = { names, since: Math.floor(since.getTime() / 1000), self: DIAGNOSTICS_LOG_COMMENT, slowMs };
  const [any] = await selectRows<{ n: unknown }>(client, sql.any, params);
  if (toNumber(any?.n) === 0) {
    throw new Error(`no queries logged since ${since.toISOString()}; is log_queries enabled?`);
  }
  const byTable = await selectRows<{ table: string; queries: unknown; max_ms: unknown; slow: unknown }>(client, sql.byTable, params);
  const slowest = await selectRows<{ table: string; ms: unknown; read_rows: unknown; query_text: string; started_at: string }>(client, sql.slowest, params);
  return { byTable, slowest };
}

/** Where finished queries are read from by default. */
export const DEFAULT_QUERY_LOG = 'system.query_log';

/**
 * Step 6: finished queries over the source tables from the query log
 * (slowest per table, against the `queryDuration` bounds) and queries still
 * running over them from `system.processes`. A missing or disabled query log
 * makes the step `unknown`, even when no running query is slow.
 *
 * @param queryLog `database.table` with `system.query_log`'s columns, e.g. a
 *   Distributed table over every replica's log; defaults to `system.query_log`.
 * @param logUnavailable why the engine has no query log at all (the log is then not read).
 */
export async function queries(
  client: ClickHouseClient,
  tables: readonly TableConfig[],
  since: Date,
  thresholds: ThresholdSet,
  queryLog: string = DEFAULT_QUERY_LOG,
  logUnavailable: string | null = null,
): Promise<StepResult<QueryPerformance>> {
  const log = quoteClickHouseQualified(parseQualifiedName(queryLog));
  const names = tables.map(qualifiedSource);
  const slowMs = (thresholds.get('queryDuration').acceptable ?? 5) * 1000;
  const logged: Probed<Logged> = logUnavailable === null ? await attempt(queryLog, () => loggedQueries(client, log, names, since, slowMs)) : { ok: false, reason: logUnavailable };
  const shortNames = tables.map((t) => parseQualifiedName(t.source).name);
  const running = await attempt('system.processes', () =>
    selectRows<{ query: string; elapsed: unknown; read_rows: unknown }>(client, RUNNING, { names: shortNames }),
  );

  const fromLog = logged.ok ? summariseLogged(logged.value, tables, names, thresholds) : null;
  const fromProcesses = running.ok ? summariseRunning(running.value, tables, shortNames, thresholds) : null;
  const reasons = [logged, running].flatMap((p) => (p.ok ? [] : [p.reason]));
  return stepResult(
    { logged: fromLog?.perTable ?? null, running: fromProcesses?.running ?? null, slowest: fromLog?.slowest ?? [] },
    [...(fromLog?.statuses ?? ['unknown']), ...(fromProcesses?.statuses ?? ['unknown'])],
    [...(fromLog?.evidence ?? []), ...(fromProcesses?.evidence ?? [])],
    reasons,
  );
}

type Logged = Awaited<ReturnType<typeof loggedQueries>>;

function summariseLogged(logged: Logged, tables: readonly TableConfig[], names: readonly string[], thresholds: ThresholdSet) {
  const byName = new Map(logged.byTable.map((r) => [r.table, r]));
  const evidence: Evidence[] = [];
  const perTable = tables.map((t, i): TableQueries => {
    const row = byName.get(names[i]!);
    const maxSeconds = toNumber(row?.max_ms) / 1000;
    const graded = grade(thresholds.get('queryDuration', t.name), maxSeconds, { table: t.name, label: 'slowest logged query' });
    evidence.push(...evidenceOf([graded]));
    return { table: t.name, status: graded.level, queries: toNumber(row?.queries), maxSeconds, slowQueries: toNumber(row?.slow) };
  });
  const tableOf = new Map(names.map((n, i) => [n, tables[i]!.name]));
  const slowest = logged.slowest.map((r): LoggedQuery => ({
    table: tableOf.get(r.table) ?? r.table,
    seconds: toNumber(r.ms) / 1000,
    readRows: toNumber(r.read_rows),
    query: r.query_text,
    startedAt: r.started_at,
  }));
  return { perTable, slowest, evidence, statuses: perTable.map((t): StepStatus => t.status) };
}

function summariseRunning(
  rows: readonly { query: string; elapsed: unknown; read_rows: unknown }[],
  tables: readonly TableConfig[],
  shortNames: readonly string[],
  thresholds: ThresholdSet,
) {
  const evidence: Evidence[] = [];
  const statuses: StepStatus[] = [];
  const running = rows.map((r): RunningQuery => {
    // The query matched one of the names, so some table is found.
    const table = tables[Math.max(0, shortNames.findIndex((n) => r.query.toLowerCase().includes(n.toLowerCase())))]!.name;
    const elapsedSeconds = toNumber(r.elapsed);
    const graded = grade(thresholds.get('queryDuration', table), elapsedSeconds, { table, label: 'running query' });
    statuses.push(graded.level);
    evidence.push(...evidenceOf([graded]));
    return { table, elapsedSeconds, readRows: toNumber(r.read_rows), query: r.query.slice(0, 200) };
  });
  return { running, evidence, statuses };
}
