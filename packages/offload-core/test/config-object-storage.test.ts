import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/index.js';

const table = {
  source: 'k2.bronze_trades',
  target: 'cold.bronze_trades',
  layer: 'bronze',
  timestampColumn: 'exchange_timestamp',
  sequenceColumn: 'sequence_number',
};

const rest = { kind: 'rest', uri: 'https://catalog.example/api/catalog', warehouse: 'lake' };
const s3 = { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', pathStyle: true };

function issuesOf(input: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(input, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('config: object storage and the REST catalog', () => {
  it('accepts an s3:// warehouse behind a REST catalog, with storage defaults and the secret from the named variable', () => {
    const config = parseConfig(
      { runner: { kind: 'embedded', warehouse: 's3://lake/warehouse', catalog: { ...rest, credentialEnv: 'REST_CRED' } }, storage: { s3 }, tables: [table] },
      { REST_CRED: 'coldtier:s3cr3t:with-colon' },
    );
    expect(config.storage.s3).toMatchObject({ ...s3, partSizeBytes: 8 * 1024 * 1024, partsInFlight: 2, maxAttempts: 5, conditionalWrites: true });
    expect(config.restCatalogSecret).toEqual({ kind: 'client-credentials', clientId: 'coldtier', clientSecret: 's3cr3t:with-colon' });
    expect(config.runner).toMatchObject({ catalog: { kind: 'rest', scope: 'catalog', timeoutSeconds: 30 } });
  });

  it('reads a static token from tokenEnv', () => {
    const config = parseConfig({ runner: { kind: 'embedded', warehouse: 's3://lake/w', catalog: { ...rest, tokenEnv: 'TOK' } }, storage: { s3 }, tables: [table] }, { TOK: 't0k' });
    expect(config.restCatalogSecret).toEqual({ kind: 'token', token: 't0k' });
  });

  it('names the key for every bad value, and never prints a secret', () => {
    expect(issuesOf({ runner: { kind: 'embedded', warehouse: 's3://lake/w', catalog: rest }, tables: [table] })).toEqual([
      'storage.s3: required when runner.warehouse is "s3://lake/w": give at least the region',
    ]);
    expect(issuesOf({ runner: { kind: 'embedded', warehouse: 's3://lake/w' }, storage: { s3: { ...s3, conditionalWrites: false } }, tables: [table] })[0]).toMatch(
      /^runner\.catalog: the filesystem \(Hadoop\) catalog needs an atomic create, which this store lacks/,
    );
    // With conditional writes (the default) the Hadoop layout on S3 is allowed.
    expect(parseConfig({ runner: { kind: 'embedded', warehouse: 's3://lake/w' }, storage: { s3 }, tables: [table] }).runner).toMatchObject({ catalog: 'filesystem' });
    expect(issuesOf({ runner: { kind: 'embedded', catalog: { ...rest, uri: 'https://u:p@catalog.example' } }, tables: [table] })[0]).toMatch(
      /^runner\.catalog\.uri: expected the REST catalog base URI \(http or https, no credentials in it\)/,
    );
    expect(issuesOf({ runner: { kind: 'embedded', catalog: { ...rest, tokenEnv: 'A', credentialEnv: 'B' } }, tables: [table] })).toEqual([
      'runner.catalog.tokenEnv: set credentialEnv or tokenEnv, not both',
    ]);
    expect(issuesOf({ storage: { s3: { ...s3, partSizeBytes: 1024 } }, tables: [table] })[0]).toMatch(/^storage\.s3\.partSizeBytes: must be at least 5 MiB/);
    expect(issuesOf({ storage: { s3: { endpoint: 'http://x' } }, tables: [table] })[0]).toMatch(/^storage\.s3\.region: /);
    expect(issuesOf({ runner: { kind: 'embedded', catalog: { ...rest, tokenEnv: 'TOK' } }, tables: [table] })).toEqual(['runner.catalog.tokenEnv: variable TOK is not set']);
    const malformed = issuesOf({ runner: { kind: 'embedded', catalog: { ...rest, credentialEnv: 'CRED' } }, tables: [table] }, { CRED: 'no-colon-secret' });
    expect(malformed).toEqual(['runner.catalog.credentialEnv: variable CRED must be "client_id:client_secret"']);
    expect(malformed.join()).not.toContain('no-colon-secret');
  });

  it('takes how ClickHouse reaches the store: a named collection on its server and, optionally, its own endpoint', () => {
    const clickhouse = { namedCollection: 'lake_creds', endpoint: 'http://minio.internal:9000' };
    const config = parseConfig({ runner: { kind: 'embedded', warehouse: 's3://lake/w' }, storage: { s3: { ...s3, clickhouse } }, tables: [table] });
    expect(config.storage.s3?.clickhouse).toEqual(clickhouse);
    expect(issuesOf({ storage: { s3: { ...s3, clickhouse: { namedCollection: "x'; DROP" } } }, tables: [table] })[0]).toMatch(/^storage\.s3\.clickhouse\.namedCollection: invalid identifier/);
    expect(issuesOf({ storage: { s3: { ...s3, clickhouse: { namedCollection: 'c', endpoint: 'minio:9000' } } }, tables: [table] })[0]).toMatch(/^storage\.s3\.clickhouse\.endpoint: expected the S3 endpoint URL as the ClickHouse server reaches it/);
    expect(issuesOf({ storage: { s3: { ...s3, clickhouse: { namedCollection: 'c', secretAccessKey: 'k' } } }, tables: [table] })[0]).toMatch(/^storage\.s3\.clickhouse: .*secretAccessKey/);
  });

  it('takes runner.exportMode, refusing server-side on S3 without a named collection in one line naming both keys', () => {
    const onS3 = (exportMode: unknown, clickhouse?: object) => ({
      runner: { kind: 'embedded', warehouse: 's3://lake/w', exportMode },
      storage: { s3: { ...s3, ...(clickhouse ? { clickhouse } : {}) } },
      tables: [table],
    });
    expect(issuesOf(onS3('server-side'))).toEqual([
      'runner.exportMode: "server-side" on "s3://lake/w" needs storage.s3.clickhouse.namedCollection: the named collection with the store\'s credentials on the ClickHouse server',
    ]);
    expect(parseConfig(onS3('server-side', { namedCollection: 'lake' })).runner).toMatchObject({ exportMode: 'server-side' });
    expect(parseConfig(onS3('stream')).runner).toMatchObject({ exportMode: 'stream' });
    expect(parseConfig({ runner: { kind: 'embedded', exportMode: 'server-side' }, tables: [table] }).runner).toMatchObject({ exportMode: 'server-side' });
    expect(issuesOf(onS3('server-file'))).toEqual(['runner.exportMode: unknown export mode "server-file": expected "stream" or "server-side"']);
    // Unset, the engine decides (server-side in process, stream from a server).
    expect((parseConfig(onS3(undefined)).runner as { exportMode?: unknown }).exportMode).toBeUndefined();
  });

  it('keeps local warehouses and the filesystem catalog as they were', () => {
    const config = parseConfig({ tables: [table] });
    expect(config.runner).toMatchObject({ kind: 'embedded', warehouse: './warehouse', catalog: 'filesystem' });
    expect(config.storage).toEqual({});
    expect(config.restCatalogSecret).toBeUndefined();
  });
});
