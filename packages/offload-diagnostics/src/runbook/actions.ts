import { parseQualifiedName, quoteClickHouse, quoteClickHouseQualified } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';

/**
 * The runbook's recommended actions, per scenario, with the real table and
 * column names filled in (quoted, so they can be pasted into a client). The
 * reference's k2-specific steps (editing scheduler.py, restarting the Spark
 * container) are phrased for Coldtier's configuration.
 */

function names(table: TableConfig) {
  const q = parseQualifiedName(table.source);
  return { source: quoteClickHouseQualified(q), database: q.namespace, name: q.name, ts: quoteClickHouse(table.timestampColumn), seq: quoteClickHouse(table.sequenceColumn) };
}

function hourlyTrendQuery(table: TableConfig): string {
  const { source, ts } = names(table);
  return `SELECT toStartOfHour(${ts}) AS hour, count() AS rows FROM ${source} WHERE ${ts} > now() - INTERVAL 6 HOUR GROUP BY hour ORDER BY hour DESC`;
}

function indexActions(table: TableConfig): string {
  const { source, ts } = names(table);
  return `If the offload query does not use an index on ${ts}: ALTER TABLE ${source} ADD INDEX idx_offload_ts ${ts} TYPE minmax GRANULARITY 4; then ALTER TABLE ${source} MATERIALIZE INDEX idx_offload_ts`;
}

/** Scenario 1. A spike of up to two hours is waited out; from three hours on it is treated as sustained. */
export function volumeSpikeActions(table: TableConfig, hoursAbove: number, critical: boolean, scheduleMinutes: number): string[] {
  const actions = [`Confirm whether the spike is temporary (lower recent hours mean it is subsiding): ${hourlyTrendQuery(table)}`];
  if (hoursAbove >= 3) {
    actions.push(
      `Sustained: above the steady-state volume for the last ${hoursAbove} hours. Optimize for higher volume (Long-Term Optimization): offload tables in parallel (raise concurrency), give the job runner more memory and cores`,
      indexActions(table),
    );
  } else {
    const sofar = hoursAbove === 0 ? 'The last hour is back below the steady-state volume' : `Above the steady-state volume for the last ${hoursAbove} hour(s)`;
    actions.push(`${sofar}: a spike of 1-2 hours needs no intervention; monitor cycle duration every 15 minutes until it subsides`);
  }
  if (critical) {
    actions.push(
      `If cycles approach the schedule: raise scheduleMinutes temporarily (${scheduleMinutes} -> ${Math.round(scheduleMinutes * 4 / 3)}) and restart the scheduler, ` +
        'or stop the scheduler and run one offload every 30 minutes until the spike subsides',
    );
  }
  return actions;
}

/** Scenario 2. */
export function resourceActions(): string[] {
  return [
    'Identify the consumer: ps aux --sort=-%mem | head -10; ps aux --sort=-%cpu | head -10 (docker stats --no-stream for containers)',
    'Job runner out of memory: look for OutOfMemoryError in the job logs; give the runner more memory or restart it',
    "ClickHouse memory pressure: SELECT metric, formatReadableSize(value) FROM system.asynchronous_metrics WHERE metric LIKE '%Memory%'; if less than 1GB is free, restart ClickHouse and wait until SELECT 1 answers",
    'Competing processes: ps aux | grep -E "python|java|spark"; wait for other heavy jobs or stop them if safe',
    'Watch recovery for 5 minutes: CPU and memory should return below 50%',
  ];
}

/** Scenario 3. */
export function networkActions(): string[] {
  return [
    'Measure the path from the job runner to ClickHouse: ping -c 100 <clickhouse host> | tail -3 (expect <1ms on one host, no loss)',
    'Container network: docker network inspect <network>; if corrupted, disconnect and reconnect the containers (docker network disconnect/connect) and ping again',
    'Host saturation: iftop -i <interface> -t -s 10 and nethogs; throttle or stop competing transfers',
    'Last resort: restart Docker networking (sudo systemctl restart docker), which briefly disconnects every container',
  ];
}

/** Scenario 4, slow queries. */
export function slowQueryActions(table: TableConfig, slowSeconds: number): string[] {
  const { source, database, name, ts, seq } = names(table);
  return [
    `Find the slow queries: SELECT query_duration_ms / 1000 AS duration_sec, read_rows, result_rows, substring(query, 1, 100) AS query_short FROM system.query_log WHERE type = 'QueryFinish' AND has(tables, '${database}.${name}') AND query_duration_ms > ${slowSeconds * 1000} ORDER BY query_duration_ms DESC LIMIT 10`,
    `Check fragmentation: SELECT count() AS parts FROM system.parts WHERE database = '${database}' AND table = '${name}' AND active (>200 parts: OPTIMIZE TABLE ${source} FINAL)`,
    `Check the offload query reads by primary key: EXPLAIN indexes = 1 SELECT * FROM ${source} WHERE ${ts} > now() - INTERVAL 1 HOUR ORDER BY ${ts}, ${seq}`,
    indexActions(table),
    'Check disk I/O on the ClickHouse host: iostat -x 1 3',
  ];
}

/** Scenario 4, fragmented table. */
export function fragmentationActions(table: TableConfig): string[] {
  const { source, database, name } = names(table);
  return [
    `Merge the parts: OPTIMIZE TABLE ${source} FINAL (can take 5-15 minutes depending on volume; run it between cycles)`,
    `Monitor the merge: SELECT * FROM system.merges WHERE database = '${database}' AND table = '${name}'`,
    `Prevent recurrence: insert in fewer, larger batches; schedule a monthly OPTIMIZE TABLE ${source} FINAL`,
  ];
}

/** The symptom the runbook starts from, with the steps' pattern for finding its cause. */
export function slowCycleActions(slowTables: readonly string[], allTables: number, causes: readonly string[], unknownSteps: readonly string[]): string[] {
  const actions: string[] = [];
  if (slowTables.length > 0 && slowTables.length < allTables) {
    actions.push(`Only ${slowTables.join(', ')} slow: a table-specific cause (data volume, indexes, fragmentation)`);
  } else if (slowTables.length > 1) {
    actions.push('All tables slow: a system-wide cause (network, ClickHouse, job runner resources)');
  }
  if (causes.length > 0) {
    actions.push(`Resolve the findings above first: ${causes.join(', ')}`);
  } else {
    actions.push(
      `No cause found by the measured steps${unknownSteps.length > 0 ? `; check what could not be measured: ${unknownSteps.join(', ')}` : ''}`,
    );
  }
  actions.push(
    'If cycles are consistently above 8 minutes: offload tables in parallel (raise concurrency) or lengthen scheduleMinutes',
  );
  return actions;
}

/** Lag and stale watermarks: the symptoms of the lag runbook. */
export function lagActions(table: string, failureCount: number): string[] {
  return [
    'Check that cycles run: the scheduler log shows "OFFLOAD CYCLE STARTED" every schedule interval; if none for >1 hour the scheduler is hung, restart it',
    failureCount > 0
      ? `${table} failed ${failureCount} time(s) in a row: read its last error in the watermark store and resolve it`
      : `Check ${table}'s recent runs for long durations (see table durations) and the source volume (a spike makes the lag catch up later)`,
  ];
}
