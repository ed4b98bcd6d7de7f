import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse } from '@coldtier/test-support';
import { INITIAL_CURSOR, parseConfig, parseMicros } from '@coldtier/offload-core';
import type { Cursor, OffloadJob } from '@coldtier/offload-core';
import { buildJobArgs } from '../src/runner/spark/index.js';

/**
 * The PySpark job cannot run here (no Spark), but the part that decides which
 * rows a window holds can: the job parses the runner's real arguments and
 * prints its ClickHouse query (`--dry-run`), and the query runs on embedded
 * ClickHouse against rows placed around the window's edges.
 */
const JOB = fileURLToPath(new URL('../spark/offload_job.py', import.meta.url));
const run = promisify(execFile);

let clickhouse: EmbeddedClickHouse;

// [exchange_timestamp, sequence_number, symbol, _version]
const ROWS: [string, number, string, number][] = [
  ['2026-01-01 00:00:00.000', 0, 'AAA', 1],
  ['2026-01-01 00:00:01.000', 5, 'AAA', 1],
  ['2026-01-01 00:00:01.000', 5, 'BBB', 1],
  ['2026-01-01 00:00:01.000', 6, 'AAA', 1],
  ["2026-01-01 00:00:01.000", 6, "it's", 1],
  ['2026-01-01 00:00:02.000', 1, 'AAA', 1],
  ['2026-01-01 00:00:02.001', 0, 'AAA', 1],
];

beforeAll(async () => {
  clickhouse = await startEmbeddedClickHouse();
  await clickhouse.client.command({ query: 'CREATE DATABASE IF NOT EXISTS k2' });
  await clickhouse.client.command({
    query:
      'CREATE TABLE k2.trades (exchange_timestamp DateTime64(3), sequence_number UInt64, symbol String, _version UInt64) ' +
      'ENGINE = ReplacingMergeTree(_version) ORDER BY (exchange_timestamp, sequence_number, symbol)',
  });
  const values = ROWS.map(([ts, seq, symbol, version]) => `('${ts}', ${seq}, '${symbol.replace("'", "\\'")}', ${version})`).join(', ');
  await clickhouse.client.command({ query: `INSERT INTO k2.trades VALUES ${values}` });
  // A newer version in its own insert: a second part, left unmerged, as ReplacingMergeTree sources often are.
  await clickhouse.client.command({ query: "INSERT INTO k2.trades VALUES ('2026-01-01 00:00:01.000', 6, 'AAA', 2)" });
});

afterAll(async () => {
  await clickhouse?.close();
});

function job(after: Cursor, until: string, overrides: Record<string, unknown> = {}): OffloadJob {
  const table = parseConfig({
    tables: [
      {
        source: 'k2.trades',
        target: 'cold.trades',
        layer: 'bronze',
        timestampColumn: 'exchange_timestamp',
        sequenceColumn: 'sequence_number',
        tieBreakerColumns: ['symbol'],
        final: true,
        ...overrides,
      },
    ],
  }).tables[0]!;
  return { runId: 'r1', table, attempt: 1, window: { after, untilMicros: parseMicros(until) } };
}

async function windowRows(offload: OffloadJob): Promise<string[]> {
  const { stdout } = await run('python3', [JOB, ...buildJobArgs(offload), '--dry-run']);
  const query = stdout.trim().replace(/^COLDTIER_QUERY /, '');
  const result = await clickhouse.client.query({ query, format: 'JSONEachRow' });
  const rows = await result.json<{ exchange_timestamp: string; sequence_number: string; symbol: string; _version: string }>();
  return rows.map((r) => `${r.exchange_timestamp.slice(17)} ${r.sequence_number} ${r.symbol} v${r._version}`);
}

const at = (iso: string, sequence: bigint, tieBreakers: string[]): Cursor => ({ timestampMicros: parseMicros(iso), sequence, tieBreakers });

describe('the offload job query', () => {
  it('takes rows that share the watermark timestamp but sort after it, up to and including until', async () => {
    const rows = await windowRows(job(at('2026-01-01T00:00:01Z', 5n, ['AAA']), '2026-01-01T00:00:02Z'));
    expect(rows).toEqual(['01.000 5 BBB v1', '01.000 6 AAA v2', "01.000 6 it's v1", '02.000 1 AAA v1']);
  });

  it('starts after a watermark whose tie-breaker needs escaping', async () => {
    const rows = await windowRows(job(at('2026-01-01T00:00:01Z', 6n, ["it's"]), '2026-01-01T00:00:03Z'));
    expect(rows).toEqual(['02.000 1 AAA v1', '02.001 0 AAA v1']);
  });

  it('reads everything up to until from the initial cursor, sequence 0 included', async () => {
    const rows = await windowRows(job(INITIAL_CURSOR, '2026-01-01T00:00:00.5Z', { tieBreakerColumns: [] }));
    expect(rows).toEqual(['00.000 0 AAA v1']);
  });

  it('keeps unmerged duplicates without FINAL and collapses them with it', async () => {
    const after = at('2026-01-01T00:00:01Z', 5n, ['BBB']);
    expect(await windowRows(job(after, '2026-01-01T00:00:01Z', { final: false }))).toEqual(
      expect.arrayContaining(['01.000 6 AAA v1', '01.000 6 AAA v2']),
    );
    expect(await windowRows(job(after, '2026-01-01T00:00:01Z'))).toEqual(['01.000 6 AAA v2', "01.000 6 it's v1"]);
  });

  it('selects only the configured columns', async () => {
    const offload = job(INITIAL_CURSOR, '2026-01-01T00:00:00Z', { tieBreakerColumns: [], columns: ['exchange_timestamp', 'sequence_number'] });
    const { stdout } = await run('python3', [JOB, ...buildJobArgs(offload), '--dry-run']);
    expect(stdout).toContain('SELECT `exchange_timestamp`, `sequence_number` FROM `k2`.`trades` FINAL WHERE');
  });
});
