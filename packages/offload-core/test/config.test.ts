import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { ConfigError, loadConfigFile, parseConfig, redactUrl, resolveDatabaseUrl } from '../src/index.js';

const example = fileURLToPath(new URL('../examples/k2-reference.yaml', import.meta.url));

const table = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  source: 'k2.bronze_trades_binance',
  target: 'cold.bronze_trades_binance',
  layer: 'bronze',
  timestampColumn: 'exchange_timestamp',
  sequenceColumn: 'sequence_number',
  ...overrides,
});

function issuesOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('applies the reference defaults', () => {
    const config = parseConfig({ tables: [table()] });
    expect(config.scheduleMinutes).toBe(15);
    expect(config.lateDataBufferMinutes).toBe(5);
    expect(config.runner).toMatchObject({ kind: 'embedded' });
    const [t] = config.tables;
    expect(t).toMatchObject({ name: 'bronze_trades_binance', timeoutSeconds: 600, columns: 'all', final: false });
    expect(t!.partitionBy).toEqual([{ column: 'exchange_timestamp', transform: 'day' }]);
  });

  it('loads the shipped reference example with every K2 table', async () => {
    const config = await loadConfigFile(example, { CLICKHOUSE_PASSWORD: 's3cret', COLDTIER_DATABASE_URL: 'postgres://x/y' });
    expect(config.tables.map((t) => t.name)).toEqual([
      'bronze_trades_binance', 'bronze_trades_kraken', 'bronze_trades_coinbase', 'silver_trades',
      'ohlcv_1m', 'ohlcv_5m', 'ohlcv_15m', 'ohlcv_30m', 'ohlcv_1h', 'ohlcv_1d',
    ]);
    expect(config.tables.find((t) => t.name === 'ohlcv_1h')).toMatchObject({
      target: 'cold.gold_ohlcv_1h',
      tieBreakerColumns: ['exchange', 'symbol'],
    });
    expect(config.clickhouse.password).toBe('s3cret');
    expect(config.databaseUrl).toBe('postgres://x/y');
    expect(config.runner.kind).toBe('spark');
  });

  it('names the field of a missing column', () => {
    const { timestampColumn: _omit, ...rest } = table();
    expect(issuesOf({ tables: [table(), rest] })).toEqual([expect.stringMatching(/^tables\[1\]\.timestampColumn: /)]);
  });

  it('refuses an identifier that is SQL', () => {
    expect(issuesOf({ tables: [table({ source: 'k2.trades; DROP TABLE x' })] })).toEqual([
      expect.stringMatching(/^tables\[0\]\.source: invalid name "k2\.trades; DROP TABLE x"/),
    ]);
    expect(issuesOf({ tables: [table({ sequenceColumn: 'seq`--' })] })).toEqual([
      expect.stringMatching(/^tables\[0\]\.sequenceColumn: invalid identifier/),
    ]);
  });

  it('refuses a negative timeout and an unknown layer, naming each field', () => {
    const issues = issuesOf({ tables: [table({ timeoutSeconds: -5 }), table({ name: 'other', layer: 'platinum' })] });
    expect(issues).toContainEqual(expect.stringMatching(/^tables\[0\]\.timeoutSeconds: must be > 0/));
    expect(issues).toContainEqual(expect.stringMatching(/^tables\[1\]\.layer: unknown layer "platinum"/));
  });

  it('checks cross-table references and column lists', () => {
    const issues = issuesOf({
      tables: [table({ dependsOn: ['nope'] }), table({ name: 'b', columns: ['price'] }), table({ name: 'b' })],
    });
    expect(issues).toContain('tables[0].dependsOn[0]: unknown table "nope"');
    expect(issues).toContain('tables[1].columns: must include the timestampColumn "exchange_timestamp"');
    expect(issues).toContain('tables[2].name: duplicate table name "b"');
  });

  it('keeps secrets out of the file', () => {
    expect(issuesOf({ clickhouse: { url: 'http://default:hunter2@ch:8123' }, tables: [table()] })).toEqual([
      expect.stringMatching(/^clickhouse\.url: must not contain a password/),
    ]);
    expect(issuesOf({ clickhouse: { password: 'x' }, tables: [table()] })).toEqual([
      expect.stringMatching(/^clickhouse: .*password/),
    ]);
  });

  describe('files', () => {
    let dir: TempDir;
    beforeAll(async () => {
      dir = await createTempDir();
    });
    afterAll(() => dir.remove());

    it('reads JSON as well as YAML', async () => {
      const path = join(dir.path, 'c.json');
      await writeFile(path, JSON.stringify({ scheduleMinutes: 5, tables: [table()] }));
      expect((await loadConfigFile(path)).scheduleMinutes).toBe(5);
    });

    it('reports an unreadable or malformed file as a config error naming the file', async () => {
      await expect(loadConfigFile(join(dir.path, 'missing.yaml'))).rejects.toThrow(/cannot read config file .*missing\.yaml/);
      const bad = join(dir.path, 'bad.yaml');
      await writeFile(bad, 'tables: [unclosed');
      await expect(loadConfigFile(bad)).rejects.toThrow(/cannot parse .*bad\.yaml/);
    });
  });
});

describe('the watermark store URL', () => {
  const VAR = 'COLDTIER_DATABASE_URL';
  const refusal = (value: string) => {
    try {
      resolveDatabaseUrl({ [VAR]: value }, VAR);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    }
    throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  };

  it('is read from the named variable, unset meaning not configured', () => {
    expect(resolveDatabaseUrl({ PG: 'postgresql://u@db:5433/x?sslmode=require' }, 'PG')).toBe('postgresql://u@db:5433/x?sslmode=require');
    expect(resolveDatabaseUrl({ PG: 'postgres:///x?host=/var/run/postgresql' }, 'PG')).toBe('postgres:///x?host=/var/run/postgresql');
    expect(resolveDatabaseUrl({}, 'PG')).toBeUndefined();
    expect(parseConfig({ watermarkStore: { urlEnv: 'PG' }, tables: [table()] }, { PG: 'postgres://db/x' }).databaseUrl).toBe('postgres://db/x');
  });

  it('refuses empty, unparsable and foreign values naming the variable, without the password', () => {
    expect(refusal('')).toBe(`${VAR} (watermarkStore.urlEnv): is set but empty; expected a postgres:// URL, got ""`);
    expect(refusal('not a url')).toBe(`${VAR} (watermarkStore.urlEnv): expected a postgres://user@host:port/database URL, got "not a url"`);
    expect(refusal('mysql://u:hunter2@db:3306/x')).toBe(`${VAR} (watermarkStore.urlEnv): expected a postgres:// or postgresql:// URL, not mysql://, got "mysql://u:***@db:3306/x"`);
    expect(refusal('postgres://')).toContain('expected a host');
    expect(redactUrl('postgres://u:hunter2@db/x')).toBe('postgres://u:***@db/x');
  });
});
