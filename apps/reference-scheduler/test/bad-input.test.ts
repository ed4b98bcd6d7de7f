/**
 * The bad-input suite: configs, CLI arguments and environment that must each
 * be refused with exit code 2, one line on stderr naming the key or variable
 * and the value, no stack trace, and nothing changed in the watermark store
 * or on disk. Most cases run in-process through `runCli`, the function the
 * `coldtier` binary runs; a representative subset (and everything that needs
 * ClickHouse) runs through the real CLI process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@clickhouse/client';
import { createTempDir, createTestDatabase, openTestPool, startClickHouseServer, type ClickHouseTestServer, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { runCli } from '../src/cli/main.js';
import { assertBuilt, coldtier, FAKE_SPARK } from './cli-helpers.js';

const SEED = new URL('./fixtures/seed-clickhouse.mjs', import.meta.url).pathname;

let db: TestDatabase;
let dir: TempDir;
let chPath: string;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
  dir = await createTempDir('coldtier-bad-input-');
  chPath = join(dir.path, 'clickhouse');
  await promisify(execFile)(process.execPath, [SEED, chPath]);
  const migrated = await runCli(['migrate', '--config', await writeConfig('migrate', base())], io({ COLDTIER_DATABASE_URL: db.url }).io);
  expect(migrated).toBe(0);
}, 120_000);
afterAll(async () => {
  await dir?.remove();
  await db?.drop();
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A valid config on the fake Spark job (no ClickHouse needed until a column check). */
function base(): Record<string, Json> {
  return {
    retry: { retries: 0 },
    clickhouse: { url: 'http://127.0.0.1:9' },
    runner: { kind: 'spark', command: [process.execPath, FAKE_SPARK], killGraceSeconds: 1 },
    tables: [
      { source: 'k2.bronze_trades_binance', target: 'cold.bronze_trades_binance', layer: 'bronze', timestampColumn: 'exchange_timestamp', sequenceColumn: 'sequence_number' },
      { source: 'k2.bronze_trades_kraken', target: 'cold.bronze_trades_kraken', layer: 'bronze', timestampColumn: 'exchange_timestamp', sequenceColumn: 'sequence_number' },
    ],
  };
}

/** `base()` with `path` (`tables.0.layer`) set to `value`; `undefined` deletes the key. */
function withValue(path: string, value: Json | undefined): Record<string, Json> {
  const config = base();
  const keys = path.split('.');
  let node = config as Record<string, Json>;
  keys.slice(0, -1).forEach((key, i) => {
    node[key] ??= /^\d+$/.test(keys[i + 1]!) ? [] : {};
    node = node[key] as Record<string, Json>;
  });
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return config;
}

let files = 0;
async function writeConfig(name: string, config: Json | string, ext = '.json'): Promise<string> {
  const path = join(dir.path, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-${files++}${ext}`);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

function io(env: NodeJS.ProcessEnv) {
  let out = '';
  let err = '';
  return {
    io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t), env, errIsTty: false, onStopSignal: () => () => {} },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

/** Everything Coldtier keeps in the watermark store, to prove a refused command changed nothing. */
async function storeDigest(): Promise<string> {
  const pool = openTestPool({ connectionString: db.url, max: 1 });
  try {
    const parts: unknown[] = [];
    for (const table of ['coldtier_schema_migrations', 'offload_watermarks', 'offload_runs', 'offload_leases', 'iceberg_tables', 'iceberg_namespace_properties']) {
      parts.push((await pool.query(`SELECT * FROM ${table} ORDER BY 1`)).rows);
    }
    return JSON.stringify(parts);
  } finally {
    await pool.end();
  }
}

/** One line on stderr, no stack trace, no output. */
function expectRefused(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp | readonly string[]): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
  if (pattern instanceof RegExp) expect(lines[0]).toMatch(pattern);
  else for (const fragment of pattern) expect(lines[0]).toContain(fragment);
}

interface Case {
  readonly name: string;
  /** The argv; `{config}` is replaced by the case's config file. */
  readonly argv: readonly string[];
  readonly config?: Json | string;
  readonly ext?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Fragments the line must contain (key and value), or a pattern. */
  readonly expect: RegExp | readonly string[];
}

const shown = (value: Json) => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value));

/** A config key set to a bad scalar: the line names the key and the value. */
function configCase(path: string, value: Json, message?: string): Case {
  const key = path.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  return {
    name: `${key} = ${shown(value)}`,
    argv: ['status', '--config', '{config}'],
    config: withValue(path, value),
    expect: [key, ...(typeof value === 'object' && value !== null ? [] : [shown(value)]), ...(message ? [message] : [])],
  };
}

const CONFIG_VALUES: readonly Case[] = [
  ...[0, -1, 1e9, '15', null, true].map((v) => configCase('scheduleMinutes', v)),
  ...[-1, 1e300, '5', 1e6].map((v) => configCase('lateDataBufferMinutes', v)),
  ...[0, 1.5, 65, '4', -3].map((v) => configCase('concurrency', v)),
  ...[-1, 21, 1.5, '2'].map((v) => configCase('retry.retries', v)),
  ...[-1, 1e9].map((v) => configCase('retry.minDelaySeconds', v)),
  ...[-5, 99_999].map((v) => configCase('retry.maxDelaySeconds', v)),
  ...[0.5, 11].map((v) => configCase('retry.factor', v)),
  configCase('retry.jitter', 'yes'),
  configCase('clickhouse.url', 'ftp://clickhouse:9000'),
  configCase('clickhouse.url', 'not a url'),
  configCase('clickhouse.url', 5),
  configCase('clickhouse.username', 5),
  configCase('clickhouse.passwordEnv', 5),
  configCase('clickhouse.path', 5),
  configCase('watermarkStore.urlEnv', 5),
  ...[0, 1e9].map((v) => configCase('watermarkStore.staleRunningMinutes', v)),
  ...[0, 301, 'x'].map((v) => configCase('watermarkStore.connectTimeoutSeconds', v)),
  ...[-1, 3601].map((v) => configCase('watermarkStore.statementTimeoutSeconds', v)),
  configCase('runner.kind', 'flink'),
  configCase('runner.command', 'spark-submit'),
  configCase('runner.command', [], 'give the command to run'),
  configCase('runner.command.0', 1),
  ...[0, 3601, 'ten'].map((v) => configCase('runner.killGraceSeconds', v)),
  configCase('runner.passEnv', 'HOME'),
  ...['layer', 'timestampColumn', 'sequenceColumn'].flatMap((key) => [configCase(`tables.0.${key}`, 5), configCase(`tables.1.${key}`, 'bad name')]),
  ...['k2', 'k2.a.b', '1k2.trades', 'k2.trades; DROP TABLE x', ''].map((v) => configCase('tables.0.source', v)),
  ...['cold', 'cold.a-b', 'cold.'].map((v) => configCase('tables.0.target', v)),
  configCase('tables.0.layer', 'platinum'),
  configCase('tables.0.sequenceColumn', ''),
  configCase('tables.0.tieBreakerColumns', 'symbol'),
  configCase('tables.0.tieBreakerColumns.0', '1symbol'),
  configCase('tables.0.columns', 'some'),
  configCase('tables.0.columns', [], 'list at least one column'),
  configCase('tables.0.columns.0', 'price-usd'),
  configCase('tables.0.final', 'yes'),
  configCase('tables.0.dependsOn', 'bronze_trades_kraken'),
  configCase('tables.0.dependsOn.0', 'bronze_trades_mars'),
  configCase('tables.0.dependsOn.0', 'bronze_trades_binance', 'cannot depend on itself'),
  ...[0, -5, 1e9, 86_401, '600'].map((v) => configCase('tables.0.timeoutSeconds', v)),
  configCase('tables.0.partitionBy', 'day'),
  configCase('tables.0.partitionBy.0', 'exchange_timestamp'),
  configCase('tables.0.onSchemaChange', 'ignore'),
  configCase('tables.0.name', 'bad name'),
  { ...configCase('tables.0.name', 'bronze_trades_kraken'), expect: ['tables[1].name', 'duplicate table name "bronze_trades_kraken"'] },
  configCase('tables', 'all'),
  configCase('tables', [], 'configure at least one table'),
];

/** Config shapes: unknown keys, missing keys, partition specs, embedded runner settings. */
const CONFIG_SHAPES: readonly Case[] = [
  { name: 'unknown top-level key', argv: ['status', '--config', '{config}'], config: { ...base(), colour: 'blue' }, expect: ['colour'] },
  { name: 'unknown retry key', argv: ['status', '--config', '{config}'], config: withValue('retry.attempts', 3), expect: ['retry', 'attempts'] },
  { name: 'unknown table key', argv: ['status', '--config', '{config}'], config: withValue('tables.0.ttl', 7), expect: ['tables[0]', 'ttl'] },
  { name: 'unknown clickhouse key', argv: ['status', '--config', '{config}'], config: withValue('clickhouse.password', 'hunter2'), expect: ['clickhouse', 'password'] },
  { name: 'no tables', argv: ['status', '--config', '{config}'], config: withValue('tables', undefined), expect: ['tables'] },
  ...['source', 'target', 'layer', 'timestampColumn', 'sequenceColumn'].map(
    (key): Case => ({ name: `table without ${key}`, argv: ['status', '--config', '{config}'], config: withValue(`tables.1.${key}`, undefined), expect: [`tables[1].${key}`] }),
  ),
  ...['week', 'bucket[0]', 'truncate[-1]', 'bucket', 'identity()'].map(
    (transform): Case => ({
      name: `partition transform ${transform}`,
      argv: ['status', '--config', '{config}'],
      config: withValue('tables.0.partitionBy', [{ column: 'exchange_timestamp', transform }]),
      expect: ['tables[0].partitionBy[0].transform', JSON.stringify(transform)],
    }),
  ),
  {
    name: 'partition column that is not an identifier',
    argv: ['status', '--config', '{config}'],
    config: withValue('tables.0.partitionBy', [{ column: 'exchange timestamp', transform: 'day' }]),
    expect: ['tables[0].partitionBy[0].column', '"exchange timestamp"'],
  },
  {
    name: 'columns without the timestamp column',
    argv: ['status', '--config', '{config}'],
    config: withValue('tables.0.columns', ['sequence_number', 'price']),
    expect: ['tables[0].columns', 'timestampColumn "exchange_timestamp"'],
  },
  {
    name: 'tie-breaker not among the columns',
    argv: ['status', '--config', '{config}'],
    config: withValue('tables.0', { ...(base()['tables'] as Json[])[0] as Record<string, Json>, columns: ['exchange_timestamp', 'sequence_number'], tieBreakerColumns: ['symbol'] }),
    expect: ['tables[0].tieBreakerColumns[0]', '"symbol"'],
  },
  {
    name: 'dependency cycle',
    argv: ['status', '--config', '{config}'],
    config: withValue('tables', [
      { ...(base()['tables'] as Json[])[0] as Record<string, Json>, dependsOn: ['bronze_trades_kraken'] },
      { ...(base()['tables'] as Json[])[1] as Record<string, Json>, dependsOn: ['bronze_trades_binance'] },
    ]),
    expect: ['tables[0].dependsOn', 'table dependencies form a cycle: bronze_trades_binance → bronze_trades_kraken → bronze_trades_binance'],
  },
  { name: 'clickhouse URL with a password', argv: ['status', '--config', '{config}'], config: withValue('clickhouse.url', 'http://u:hunter2@ch:8123'), expect: ['clickhouse.url', 'must not contain a password'] },
  ...(['hive', 'glue'] as const).map((catalog): Case => ({ name: `embedded catalog ${catalog}`, argv: ['status', '--config', '{config}'], config: withValue('runner', { kind: 'embedded', catalog }), expect: ['runner.catalog', JSON.stringify(catalog)] })),
  { name: 'embedded catalogName not an identifier', argv: ['status', '--config', '{config}'], config: withValue('runner', { kind: 'embedded', catalogName: 'my-catalog' }), expect: ['runner.catalogName', '"my-catalog"'] },
  ...[0, 1.5, 1e12].map((v): Case => ({ name: `targetFileSizeBytes ${v}`, argv: ['status', '--config', '{config}'], config: withValue('runner', { kind: 'embedded', targetFileSizeBytes: v }), expect: ['runner.targetFileSizeBytes', JSON.stringify(v)] })),
  { name: 'spark runner setting on the embedded runner', argv: ['status', '--config', '{config}'], config: withValue('runner', { kind: 'embedded', command: ['x'] }), expect: ['runner', 'command'] },
  { name: 'runner without kind', argv: ['status', '--config', '{config}'], config: withValue('runner', { command: ['x'] }), expect: ['runner.kind'] },
];

const CONFIG_FILES: readonly Case[] = [
  { name: 'missing config file', argv: ['status', '--config', '/nonexistent/coldtier.yaml'], expect: ['cannot read config file /nonexistent/coldtier.yaml'] },
  { name: 'config file is a directory', argv: ['status', '--config', '/tmp'], expect: ['cannot read config file /tmp'] },
  { name: 'YAML that does not parse', argv: ['status', '--config', '{config}'], config: 'tables: [\n  - {', ext: '.yaml', expect: /cannot parse .*\.yaml: .* at line 2, column 6/ },
  { name: 'JSON that does not parse', argv: ['status', '--config', '{config}'], config: '{"tables": ', ext: '.json', expect: /cannot parse .*\.json/ },
  { name: 'a YAML scalar', argv: ['status', '--config', '{config}'], config: 'hello', ext: '.yaml', expect: ['(root)'] },
  { name: 'an empty file', argv: ['status', '--config', '{config}'], config: '', ext: '.yaml', expect: ['(root)'] },
  { name: 'a YAML list', argv: ['status', '--config', '{config}'], config: '- a\n- b\n', ext: '.yml', expect: ['(root)'] },
];

const DB = 'COLDTIER_DATABASE_URL';
const ENVIRONMENT: readonly Case[] = [
  ...[
    ['', 'is set but empty'],
    ['   ', 'is set but empty'],
    ['not a url', '"not a url"'],
    ['mysql://coldtier@db:3306/coldtier', 'not mysql://'],
    ['http://db:5432/coldtier', 'not http://'],
    ['redis://cache:6379', 'not redis://'],
    ['file:///var/lib/pg', 'not file://'],
    ['postgres://', 'expected a host'],
    ['postgresql//db/coldtier', '"postgresql//db/coldtier"'],
    ['localhost:5432', 'not localhost://'],
  ].flatMap(([value, fragment]) =>
    ['status', 'migrate', 'run --once'].map((command): Case => ({
      name: `${command} with ${DB}=${JSON.stringify(value)}`,
      argv: [...command!.split(' '), '--config', '{config}'],
      config: base(),
      env: { [DB]: value },
      expect: [`${DB} (watermarkStore.urlEnv)`, fragment!],
    })),
  ),
  {
    name: 'a password in a bad URL is not printed',
    argv: ['status', '--config', '{config}'],
    config: base(),
    env: { [DB]: 'mysql://coldtier:hunter2@db/x' },
    expect: /COLDTIER_DATABASE_URL \(watermarkStore\.urlEnv\): .*"mysql:\/\/coldtier:\*\*\*@db\/x"/,
  },
  ...['status', 'migrate', 'run --once', 'backfill --table bronze_trades_binance --from 2026-01-01 --to 2026-01-02'].map(
    (command): Case => ({
      name: `${command} with the configured variable unset`,
      argv: [...command.split(' '), '--config', '{config}'],
      config: withValue('watermarkStore', { urlEnv: 'MY_COLDTIER_PG' }),
      env: { [DB]: db?.url },
      expect: ['MY_COLDTIER_PG (watermarkStore.urlEnv) is not set'],
    }),
  ),
  ...['status', 'migrate', 'run --once'].map(
    (command): Case => ({
      name: `${command} on an embedded ClickHouse config with ${DB} unset (no PGlite fallback)`,
      argv: [...command.split(' '), '--config', '{config}', '--state-dir', '{state}'],
      config: withValue('clickhouse', { url: 'embedded' }),
      env: {},
      expect: [`${DB} (watermarkStore.urlEnv) is not set`],
    }),
  ),
];

const COMMANDS = ['start', 'run', 'backfill', 'status', 'diagnose', 'reconcile', 'rules', 'dashboard', 'migrate', 'clean-orphans'];
const ARGUMENTS: readonly Case[] = [
  { name: 'unknown command', argv: ['explode'], expect: ['unknown command "explode"'] },
  { name: 'unknown command that looks like an option', argv: ['--colour'], expect: ['unknown command "--colour"'] },
  ...COMMANDS.map((command): Case => ({ name: `${command} --colour`, argv: [command, '--colour'], expect: ["Unknown option '--colour'"] })),
  ...COMMANDS.map((command): Case => ({ name: `${command} with a positional`, argv: [command, 'extra'], expect: ['extra'] })),
  ...COMMANDS.filter((c) => c !== 'backfill' && c !== 'reconcile').map((command): Case => ({ name: `${command} --log-format xml`, argv: [command, ...(command === 'run' ? ['--once'] : []), '--log-format', 'xml', '--config', '{config}'], config: base(), expect: ['--log-format', '"xml"'] })),
  { name: 'run without --once', argv: ['run', '--config', '{config}'], config: base(), expect: ['--once'] },
  { name: '--config without a value', argv: ['status', '--config'], expect: ['--config'] },
  { name: 'backfill without --from', argv: ['backfill', '--table', 'bronze_trades_binance', '--to', '2026-01-02', '--config', '{config}'], config: base(), expect: ['missing --from'] },
  { name: 'backfill without --to', argv: ['backfill', '--table', 'bronze_trades_binance', '--from', '2026-01-02', '--config', '{config}'], config: base(), expect: ['missing --to'] },
  { name: 'backfill without --table', argv: ['backfill', '--from', '2026-01-01', '--to', '2026-01-02', '--config', '{config}'], config: base(), expect: ['missing --table'] },
  { name: 'backfill with an unknown table', argv: ['backfill', '--table', 'mars', '--from', '2026-01-01', '--to', '2026-01-02', '--config', '{config}'], config: base(), expect: ['unknown table "mars"'] },
  ...['2026-02-30', '2026-13-01', 'yesterday', '2026-01-01T10:00:00', '01/02/2026', ''].map(
    (value): Case => ({ name: `backfill --from ${JSON.stringify(value)}`, argv: ['backfill', '--table', 'bronze_trades_binance', `--from=${value}`, '--to', '2026-03-01', '--config', '{config}'], config: base(), expect: ['--from', JSON.stringify(value)] }),
  ),
  { name: 'backfill --to not a date', argv: ['backfill', '--table', 'bronze_trades_binance', '--from', '2026-01-01', '--to', 'soon', '--config', '{config}'], config: base(), expect: ['--to', '"soon"'] },
  { name: 'backfill --from after --to', argv: ['backfill', '--table', 'bronze_trades_binance', '--from', '2026-03-01', '--to', '2026-02-01', '--config', '{config}'], config: base(), expect: ['--from 2026-03-01T00:00:00.000Z must be before --to 2026-02-01T00:00:00.000Z'] },
  ...['0h', '1w', '-1h', '99999d', 'h', '1.5.2h'].map(
    (value): Case => ({ name: `backfill --chunk ${value}`, argv: ['backfill', '--table', 'bronze_trades_binance', '--from', '2026-01-01', '--to', '2026-01-02', `--chunk=${value}`, '--config', '{config}'], config: base(), expect: ['--chunk', JSON.stringify(value)] }),
  ),
  { name: 'reconcile without --since', argv: ['reconcile', '--table', 'bronze_trades_binance', '--config', '{config}'], config: base(), expect: ['missing --since'] },
  { name: 'reconcile --since not a date', argv: ['reconcile', '--table', 'bronze_trades_binance', '--since', 'last week', '--config', '{config}'], config: base(), expect: ['--since', '"last week"'] },
  { name: 'reconcile --until before --since', argv: ['reconcile', '--table', 'bronze_trades_binance', '--since', '2026-02-01', '--until', '2026-01-01', '--config', '{config}'], config: base(), expect: ['--until 2026-01-01T00:00:00.000Z is not after --since 2026-02-01T00:00:00.000Z'] },
  { name: 'reconcile on the Spark runner', argv: ['reconcile', '--table', 'bronze_trades_binance', '--since', '2026-01-01', '--config', '{config}'], config: base(), env: { [DB]: 'postgres://unused@127.0.0.1:9/x' }, expect: ['runner.kind "spark"'] },
  { name: 'clean-orphans on the Spark runner', argv: ['clean-orphans', '--config', '{config}'], config: base(), expect: ['runner.kind "spark"'] },
  { name: 'clean-orphans with an unknown table', argv: ['clean-orphans', '--table', 'mars', '--config', '{config}'], config: withValue('runner', { kind: 'embedded', warehouse: '/nonexistent/warehouse' }), expect: ['unknown table "mars"'] },
  ...['3 days', '0d', '-1d', '99999d', 'forever'].map(
    (value): Case => ({ name: `clean-orphans --older-than ${JSON.stringify(value)}`, argv: ['clean-orphans', `--older-than=${value}`, '--config', '{config}'], config: base(), expect: ['--older-than', JSON.stringify(value)] }),
  ),
  ...['six', '0', '1.5', '99999', '-2'].map(
    (value): Case => ({ name: `diagnose --hours ${value}`, argv: ['diagnose', `--hours=${value}`, '--config', '{config}'], config: base(), expect: ['--hours', JSON.stringify(value)] }),
  ),
  ...['-1', '65536', 'abc', '80.5'].map((value): Case => ({ name: `start --port ${value}`, argv: ['start', `--port=${value}`], expect: ['--port', JSON.stringify(value)] })),
  ...['0', 'x', '1e9', '-30'].map((value): Case => ({ name: `start --interval-seconds ${value}`, argv: ['start', `--interval-seconds=${value}`], expect: ['--interval-seconds', JSON.stringify(value)] })),
  ...['0', '-1', '99999', 'soon'].map((value): Case => ({ name: `start --grace-seconds ${value}`, argv: ['start', `--grace-seconds=${value}`], expect: ['--grace-seconds', JSON.stringify(value)] })),
  ...['status', 'run --once', 'migrate'].flatMap((command): Case[] => [
    { name: `${command} --log-file in a missing directory`, argv: [...command.split(' '), '--log-file', '/nonexistent/dir/coldtier.log', '--config', '{config}'], config: base(), expect: ['--log-file', '"/nonexistent/dir/coldtier.log"', 'ENOENT'] },
    { name: `${command} --log-file that is a directory`, argv: [...command.split(' '), '--log-file', '/tmp', '--config', '{config}'], config: base(), expect: ['--log-file', '"/tmp"', 'EISDIR'] },
    { name: `${command} --state-dir under a file`, argv: [...command.split(' '), '--state-dir', '/dev/null/coldtier'], expect: ['--state-dir', '"/dev/null/coldtier"', 'ENOTDIR'] },
  ]),
];

const IN_PROCESS: readonly Case[] = [...CONFIG_VALUES, ...CONFIG_SHAPES, ...CONFIG_FILES, ...ENVIRONMENT, ...ARGUMENTS];

async function prepare(c: Case, index: number): Promise<{ argv: string[]; env: NodeJS.ProcessEnv; state: string }> {
  const config = c.config === undefined ? '' : await writeConfig(c.name, c.config, c.ext);
  const state = join(dir.path, `state-${index}`);
  const argv = c.argv.map((a) => (a === '{config}' ? config : a === '{state}' ? state : a));
  return { argv, env: c.env ?? { [DB]: db.url }, state };
}

describe('bad input, in-process through runCli', () => {
  let before: string;
  beforeAll(async () => {
    before = await storeDigest();
  });

  it('has at least 150 cases', () => {
    expect(IN_PROCESS.length + THROUGH_THE_CLI.length).toBeGreaterThanOrEqual(150);
  });

  it.each(IN_PROCESS.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, index) => {
    const { argv, env, state } = await prepare(c, index);
    const run = io(env);
    const code = await runCli(argv, run.io);
    expectRefused({ code, stdout: run.out, stderr: run.err }, c.expect);
    expect(existsSync(state)).toBe(false);
  });

  it('changed nothing in the watermark store', async () => {
    expect(await storeDigest()).toBe(before);
  });
});

/** Through the real process: a representative subset, and what needs ClickHouse (column types against system.columns). */
const embedded = (table: Record<string, Json>): Json => ({
  clickhouse: { url: 'embedded', path: '{clickhouse}' },
  runner: { kind: 'embedded', warehouse: '{warehouse}' },
  tables: [{ source: 'k2.odd_types', target: 'cold.odd_types', layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq', ...table }],
});
const THROUGH_THE_CLI: readonly Case[] = [
  { ...configCase('lateDataBufferMinutes', 1e300), argv: ['run', '--once', '--config', '{config}'] },
  { ...configCase('tables.0.layer', 'platinum'), argv: ['start', '--config', '{config}', '--port', '0'] },
  ENVIRONMENT.find((c) => c.name === `run --once with ${DB}=""`)!,
  ENVIRONMENT.find((c) => c.name === `migrate with ${DB}="not a url"`)!,
  ENVIRONMENT.find((c) => c.name.startsWith('run --once on an embedded ClickHouse config'))!,
  ARGUMENTS.find((c) => c.name === 'status --log-file in a missing directory')!,
  ARGUMENTS.find((c) => c.name === 'run --once --state-dir under a file')!,
  ARGUMENTS.find((c) => c.name === 'start --port 65536')!,
  { name: 'a Decimal timestampColumn', argv: ['run', '--once', '--config', '{config}'], config: embedded({ timestampColumn: 'ts_decimal' }), expect: ['tables[0].timestampColumn', '"ts_decimal"', 'Decimal(18, 3)'] },
  { name: 'a Nullable timestampColumn', argv: ['run', '--once', '--config', '{config}'], config: embedded({ timestampColumn: 'ts_nullable', partitionBy: [{ column: 'ts', transform: 'day' }] }), expect: ['tables[0].timestampColumn', '"ts_nullable"', 'Nullable'] },
  { name: 'a String sequenceColumn', argv: ['run', '--once', '--config', '{config}'], config: embedded({ sequenceColumn: 'seq_string' }), expect: ['tables[0].sequenceColumn', '"seq_string"', 'String'] },
  { name: 'a Float sequenceColumn', argv: ['backfill', '--table', 'odd_types', '--from', '2020-01-01', '--to', '2020-01-02', '--config', '{config}'], config: embedded({ sequenceColumn: 'seq_float' }), expect: ['tables[0].sequenceColumn', '"seq_float"', 'Float64'] },
  { name: 'day() of a String column', argv: ['run', '--once', '--config', '{config}'], config: embedded({ partitionBy: [{ column: 'label', transform: 'day' }] }), expect: ['tables[0].partitionBy[0].column', '"label"', 'String'] },
  { name: 'truncate of a Float column', argv: ['run', '--once', '--config', '{config}'], config: embedded({ partitionBy: [{ column: 'price', transform: 'truncate[10]' }] }), expect: ['tables[0].partitionBy[0].column', '"price"', 'Float64'] },
  { name: 'a timestampColumn the table lacks', argv: ['run', '--once', '--config', '{config}'], config: embedded({ timestampColumn: 'created_at', partitionBy: [{ column: 'ts', transform: 'day' }] }), expect: ['tables[0].timestampColumn', 'no column "created_at"'] },
  { name: 'a clickhouse.path under a file', argv: ['run', '--once', '--config', '{config}'], config: { ...(embedded({}) as Record<string, Json>), clickhouse: { url: 'embedded', path: '/dev/null/clickhouse' } }, expect: ['clickhouse.path', '"/dev/null/clickhouse"', 'ENOTDIR'] },
  { name: 'a source table ClickHouse lacks', argv: ['run', '--once', '--config', '{config}'], config: embedded({ source: 'k2.missing_table' }), expect: ['tables[0].source', 'k2.missing_table does not exist'] },
];

describe('bad input, through the coldtier process', () => {
  let before: string;
  beforeAll(async () => {
    before = await storeDigest();
  });

  it.each(THROUGH_THE_CLI.map((c, i) => [c.name, c, i] as const))('%s', { timeout: 60_000 }, async (_name, c, index) => {
    const warehouse = join(dir.path, `warehouse-${index}`);
    const config = c.config === undefined ? undefined : JSON.parse(JSON.stringify(c.config).replaceAll('{clickhouse}', chPath).replaceAll('{warehouse}', warehouse)) as Json;
    const { argv, env, state } = await prepare({ ...c, ...(config === undefined ? {} : { config }) }, 1000 + index);
    // The child inherits this process's environment: a case without the variable must not get it from there.
    expectRefused(await coldtier(argv, { env: { [DB]: undefined, ...env } }), c.expect);
    expect(existsSync(state)).toBe(false);
    expect(existsSync(warehouse)).toBe(false);
    expect(await storeDigest()).toBe(before);
  });
});

describe('bad column types with the Spark runner, through the coldtier process', () => {
  let server: ClickHouseTestServer;
  beforeAll(async () => {
    server = await startClickHouseServer();
    const client = createClient({ url: server.url, username: server.username, password: server.password });
    await client.command({ query: 'CREATE DATABASE k2' });
    await client.command({ query: 'CREATE TABLE k2.odd_types (ts_decimal Decimal(18, 3), ts DateTime64(3), seq UInt64, label String) ENGINE = MergeTree ORDER BY tuple()' });
    await client.close();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  // The Spark job reads ClickHouse itself; the check runs before it is started (the fake job would succeed),
  // also when Coldtier does not prepare the table (the job then needs no other ClickHouse query from here).
  it.each([
    ['a Decimal timestampColumn', { timestampColumn: 'ts_decimal' }, ['tables[0].timestampColumn', '"ts_decimal"', 'Decimal(18, 3)']],
    ['day() of a String column', { partitionBy: [{ column: 'label', transform: 'day' }] }, ['tables[0].partitionBy[0].column', '"label"', 'String']],
  ] as const)('%s', { timeout: 60_000 }, async (name, table, expected) => {
    const config = {
      clickhouse: { url: server.url, username: server.username, passwordEnv: 'SOURCE_CLICKHOUSE_PASSWORD' },
      runner: { kind: 'spark', command: [process.execPath, FAKE_SPARK], killGraceSeconds: 1, prepareTable: false },
      tables: [{ source: 'k2.odd_types', target: 'cold.odd_types', layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq', ...table }],
    } as Json;
    const { argv, env, state } = await prepare({ name, argv: ['run', '--once', '--config', '{config}'], config, expect: [] }, 2000);
    expectRefused(await coldtier(argv, { env: { ...env, SOURCE_CLICKHOUSE_PASSWORD: server.password } }), expected);
    expect(existsSync(state)).toBe(false);
  });
});

describe('coldtier clean-orphans --help', () => {
  it('documents the command', async () => {
    const run = io({});
    expect(await runCli(['clean-orphans', '--help'], run.io)).toBe(0);
    expect(run.out).toContain('Usage: coldtier clean-orphans [--older-than 3d] [--dry-run]');
  });
});
