import { describe, expect, it } from 'vitest';
import { ConfigError, INITIAL_CURSOR, JobFailedError, parseConfig, parseMicros } from '@coldtier/offload-core';
import type { JobErrorType, OffloadJob, TableConfig } from '@coldtier/offload-core';
import { classifyJobExit, formatLimit, headline } from '../src/runner/classify.js';
import type { JobExit } from '../src/runner/classify.js';
import {
  LineSplitter,
  OutputTail,
  ResultCollector,
  SparkJobRunner,
  buildJobArgs,
  checkReportedResult,
  secretEnv,
} from '../src/runner/spark/index.js';

const context = { table: 'silver_trades', program: 'spark-submit', timeoutSeconds: 600 };
const exit = (overrides: Partial<JobExit>): JobExit => ({
  exitCode: 1,
  signal: null,
  stoppedBy: null,
  spawnError: null,
  tail: '',
  ...overrides,
});
const enoent = Object.assign(new Error('spawn spark-submit ENOENT'), { code: 'ENOENT' });

describe('classifyJobExit', () => {
  const cases: [string, JobExit, JobErrorType, boolean][] = [
    ['exit 0 without a result', exit({ exitCode: 0, tail: 'INFO done' }), 'process_error', false],
    ['non-zero exit', exit({ tail: 'AnalysisException: table not found' }), 'process_error', false],
    ['Connection refused', exit({ tail: 'java.net.ConnectException: Connection refused' }), 'connection', true],
    ['UnknownHostException', exit({ tail: 'java.net.UnknownHostException: clickhouse' }), 'connection', true],
    ['Name or service not known', exit({ tail: 'clickhouse: Name or service not known' }), 'connection', true],
    ['ECONNREFUSED', exit({ tail: 'connect ECONNREFUSED 127.0.0.1:8123' }), 'connection', true],
    ['Communications link failure', exit({ tail: 'Communications link failure' }), 'connection', true],
    ['timed out connecting', exit({ tail: 'timed out connecting to clickhouse:8123' }), 'connection', true],
    ['killed by a signal we did not send', exit({ exitCode: null, signal: 'SIGKILL' }), 'crash', false],
    ['OutOfMemoryError', exit({ tail: 'java.lang.OutOfMemoryError: Java heap space' }), 'crash', false],
    ['OutOfMemoryError beats connection text', exit({ tail: 'Connection refused\njava.lang.OutOfMemoryError: GC overhead' }), 'crash', false],
    ['connection text after a signal is still a crash', exit({ exitCode: null, signal: 'SIGSEGV', tail: 'Connection refused' }), 'crash', false],
    ['timeout wins over the signal it caused', exit({ exitCode: null, signal: 'SIGTERM', stoppedBy: 'timeout' }), 'timeout', true],
    ['abort wins over the signal it caused', exit({ exitCode: null, signal: 'SIGKILL', stoppedBy: 'abort' }), 'process_error', false],
    ['spawn ENOENT', exit({ exitCode: null, spawnError: enoent }), 'process_error', false],
  ];

  it.each(cases)('%s', (_name, input, errorType, retryable) => {
    const error = classifyJobExit(input, context);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.table).toBe('silver_trades');
    expect(error.errorType).toBe(errorType);
    expect(error.retryable).toBe(retryable);
  });

  it('writes the timeout like the reference, with the real limit', () => {
    expect(classifyJobExit(exit({ stoppedBy: 'timeout' }), context).message).toBe('Offload timeout: silver_trades (>10 minutes)');
    expect(classifyJobExit(exit({ stoppedBy: 'timeout' }), { ...context, timeoutSeconds: 90 }).message).toBe(
      'Offload timeout: silver_trades (>90 seconds)',
    );
  });

  it('names the missing command', () => {
    expect(classifyJobExit(exit({ spawnError: enoent }), context).message).toContain('command not found: "spark-submit"');
  });

  it('keeps the abort reason as cause and the output as cause otherwise', () => {
    const reason = new Error('shutdown');
    expect(classifyJobExit(exit({ stoppedBy: 'abort' }), context, reason).cause).toBe(reason);
    expect(classifyJobExit(exit({ tail: 'boom' }), context, reason).cause).toEqual({ exitCode: 1, signal: null, tail: 'boom' });
  });
});

describe('headline and formatLimit', () => {
  it('picks the exception line of a Python traceback and of a Java stack trace', () => {
    expect(headline('Traceback (most recent call last):\n  File "x.py"\nValueError: bad value\n')).toBe('ValueError: bad value');
    expect(headline('java.lang.IllegalStateException: closed\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)')).toBe(
      'java.lang.IllegalStateException: closed',
    );
    expect(headline('just a line\n\n')).toBe('just a line');
  });

  it.each([
    [600, '10 minutes'],
    [60, '1 minute'],
    [90, '90 seconds'],
    [0.5, '0.5 seconds'],
    [1, '1 second'],
  ])('%s s → %s', (seconds, text) => expect(formatLimit(seconds)).toBe(text));
});

function table(overrides: Record<string, unknown> = {}): TableConfig {
  return parseConfig({
    tables: [{ source: 'k2.ohlcv_1m', target: 'cold.gold_ohlcv_1m', layer: 'gold', timestampColumn: 'window_start', sequenceColumn: 'seq', ...overrides }],
  }).tables[0]!;
}

function job(overrides: Partial<OffloadJob> = {}): OffloadJob {
  return {
    runId: 'r1',
    table: table({ tieBreakerColumns: ['symbol'] }),
    attempt: 1,
    window: { after: { timestampMicros: 1_000_000n, sequence: 5n, tieBreakers: ['AAA'] }, untilMicros: 9_000_000n },
    ...overrides,
  };
}

function collect(...lines: string[]): ResultCollector {
  const collector = new ResultCollector();
  lines.forEach((line) => collector.accept(line));
  return collector;
}

describe('ResultCollector', () => {
  it('parses COLDTIER_RESULT and reports it as consumed', () => {
    const collector = new ResultCollector();
    const line = 'COLDTIER_RESULT {"rows":2,"maxCursor":{"timestamp":"1970-01-01T00:00:02.000001Z","sequence":"18446744073709551615","tieBreakers":["BTC","12n"]},"bytes":10,"snapshotId":"-5"}';
    expect(collector.accept(line)).toBe(true);
    expect(collector.parse('t')).toEqual({
      runId: null,
      rows: 2,
      maxCursor: { timestampMicros: 2_000_001n, sequence: 18446744073709551615n, tieBreakers: ['BTC', 12n] },
      bytes: 10,
      snapshotId: '-5',
    });
  });

  it('prefers COLDTIER_RESULT over the legacy lines and reads legacy counts with separators', () => {
    expect(collect('Rows offloaded: 9', 'COLDTIER_RESULT {"rows":0,"maxCursor":null}').parse('t')?.rows).toBe(0);
    expect(collect('Rows offloaded: 0').parse('t')).toEqual({ runId: null, rows: 0, maxCursor: null, bytes: 0, snapshotId: null });
    expect(collect('Rows offloaded: 3,850,000', 'Max cursor: {"timestamp":"1970-01-01T00:00:02Z","sequence":"1"}').parse('t')?.rows).toBe(3_850_000);
  });

  it('returns null when nothing was reported', () => {
    expect(collect('INFO starting', 'Duration: 1.0s').parse('t')).toBeNull();
  });

  it.each([
    ['not JSON', ['COLDTIER_RESULT {rows: 1}'], 'not JSON'],
    ['a negative row count', ['COLDTIER_RESULT {"rows":-1,"maxCursor":null}'], 'malformed'],
    ['a numeric sequence', ['COLDTIER_RESULT {"rows":1,"maxCursor":{"timestamp":"1970-01-01T00:00:02Z","sequence":1}}'], 'malformed'],
    ['a timestamp without zone', ['COLDTIER_RESULT {"rows":1,"maxCursor":{"timestamp":"1970-01-01 00:00:02","sequence":"1"}}'], 'cursor is malformed'],
    ['rows without a cursor', ['Rows offloaded: 5'], 'cannot advance safely'],
  ])('rejects %s as a process_error', (_name, lines, text) => {
    let thrown: unknown;
    try {
      collect(...lines).parse('t');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JobFailedError);
    expect((thrown as JobFailedError).errorType).toBe('process_error');
    expect((thrown as JobFailedError).message).toContain(text);
  });
});

describe('checkReportedResult', () => {
  const result = (cursor: { timestampMicros: bigint; sequence: bigint; tieBreakers: string[] } | null, rows = 1, runId: string | null = null) => ({
    runId,
    rows,
    maxCursor: cursor,
    bytes: 0,
    snapshotId: null,
  });

  it('accepts a cursor inside the window, including one sharing the watermark timestamp', () => {
    expect(() => checkReportedResult(job(), result({ timestampMicros: 1_000_000n, sequence: 5n, tieBreakers: ['AAB'] }))).not.toThrow();
    expect(() => checkReportedResult(job(), result({ timestampMicros: 9_000_000n, sequence: 0n, tieBreakers: ['A'] }))).not.toThrow();
    expect(() => checkReportedResult(job(), result(null, 0))).not.toThrow();
  });

  it.each([
    ['at the watermark', result({ timestampMicros: 1_000_000n, sequence: 5n, tieBreakers: ['AAA'] }), 'outside the window'],
    ['after until', result({ timestampMicros: 9_000_001n, sequence: 0n, tieBreakers: ['A'] }), 'outside the window'],
    ['without tie-breakers', result({ timestampMicros: 2_000_000n, sequence: 0n, tieBreakers: [] }), 'tie-breakers'],
    ['rows without cursor', result(null, 3), 'no max cursor'],
    ['cursor without rows', result({ timestampMicros: 2_000_000n, sequence: 0n, tieBreakers: ['A'] }, 0), '0 rows'],
    ['of another run', result(null, 0, 'r0'), 'run id'],
  ])('rejects a report %s', (_name, reported, text) => {
    expect(() => checkReportedResult(job(), reported)).toThrow(text);
  });
});

describe('buildJobArgs', () => {
  it('encodes the initial cursor, integer tie-breakers and optional flags', () => {
    const args = buildJobArgs(
      job({
        table: table({ tieBreakerColumns: [] }),
        window: { after: INITIAL_CURSOR, untilMicros: parseMicros('2026-01-01T00:00:00.5Z') },
      }),
    );
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--after-timestamp')).toBe('1970-01-01T00:00:00.000000Z');
    expect(value('--after-sequence')).toBe('-1');
    expect(value('--after-tie-breakers')).toBe('[]');
    expect(value('--until')).toBe('2026-01-01T00:00:00.500000Z');
    expect(value('--tie-breaker-cols')).toBe('');
    expect(args).not.toContain('--final');
    expect(args).not.toContain('--columns');
    expect(args).not.toContain('--clickhouse-url');

    const withInt = buildJobArgs(job({ window: { after: { timestampMicros: 0n, sequence: 0n, tieBreakers: [12n] }, untilMicros: 1n } }));
    expect(withInt[withInt.indexOf('--after-tie-breakers') + 1]).toBe('["12n"]');
  });

  it('passes catalog settings as flags and passwords only as environment', () => {
    const connections = {
      clickhouse: { url: 'http://ch:8123', password: 'p1' },
      catalog: { type: 'jdbc' as const, warehouse: 's3://wh', uri: 'jdbc:postgresql://pg/cat', user: 'ice', password: 'p2' },
    };
    const args = buildJobArgs(job(), connections);
    expect(args.join(' ')).toContain('--catalog-type jdbc --catalog-warehouse s3://wh --catalog-uri jdbc:postgresql://pg/cat --catalog-user ice');
    expect(args.join(' ')).not.toMatch(/p1|p2/);
    expect(secretEnv(connections)).toEqual({ COLDTIER_CLICKHOUSE_PASSWORD: 'p1', COLDTIER_CATALOG_PASSWORD: 'p2' });
  });
});

describe('OutputTail and LineSplitter', () => {
  it('keeps only the last lines within the line budget and says how many were dropped', () => {
    const tail = new OutputTail(1000, 3);
    for (let i = 1; i <= 5; i++) tail.push(`line ${i}`);
    expect(tail.text()).toBe('[2 earlier lines omitted]\nline 3\nline 4\nline 5');
  });

  it('keeps within the byte budget, cutting a single oversized line to its end', () => {
    const tail = new OutputTail(10, 100);
    tail.push('aaaa');
    tail.push('bbbb');
    tail.push('cccc');
    expect(tail.text()).toBe('[1 earlier lines omitted]\nbbbb\ncccc');
    const long = new OutputTail(10, 100);
    long.push('0123456789abcdef');
    expect(long.text()).toBe('6789abcdef');
  });

  it('splits chunks into lines, joining partial lines and dropping CR', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write('a\r\nb');
    splitter.write('c\nd');
    splitter.end();
    expect(lines).toEqual(['a', 'bc', 'd']);
  });
});

describe('SparkJobRunner options', () => {
  it('refuses an empty command, a negative grace and a password in the JDBC URL', () => {
    let thrown: unknown;
    try {
      new SparkJobRunner({ command: [], killGraceMs: -1, clickhouse: { url: 'http://ch:8123/?password=x' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues.map((i) => i.path)).toEqual(['command', 'killGraceMs', 'clickhouse.url']);
  });
});
