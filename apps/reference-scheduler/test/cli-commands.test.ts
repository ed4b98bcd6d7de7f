import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createTempDir, createTestDatabase, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { assertBuilt, coldtier, writeFakeSparkConfig } from './cli-helpers.js';

let db: TestDatabase;
let dir: TempDir;
let config: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
  dir = await createTempDir('coldtier-cli-');
  config = await writeFakeSparkConfig(dir.path);
  env = { COLDTIER_DATABASE_URL: db.url, FAKE_SPARK_MODE: 'success' };
});
afterAll(async () => {
  await dir?.remove();
  await db?.drop();
});

interface StatusJson {
  tables: { table: string; watermark: string | null; status: string; failureCount: number }[];
}

async function statusJson(): Promise<StatusJson> {
  const result = await coldtier(['status', '--config', config, '--json'], { env });
  // The fake-Spark setup has no ClickHouse: status answers from the store and says the TTL headroom was not probed.
  expect(result.stderr).not.toContain('coldtier status:');
  expect(result.stderr).toContain('TTL headroom of bronze_trades_binance not probed');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

const watermarkOf = (s: StatusJson, table: string) => s.tables.find((t) => t.table === table)?.watermark;

/** One line on stderr, no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('coldtier --help', () => {
  it.each(['start', 'run', 'backfill', 'status', 'diagnose', 'reconcile', 'rules', 'dashboard', 'migrate'])('documents %s', async (command) => {
    const result = await coldtier([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: coldtier ${command}`);
  });

  it('prints one command\'s help for `help COMMAND`, and the package version for --version', async () => {
    const help = await coldtier(['help', 'status']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: coldtier status');
    expect(help.stdout).not.toContain('Commands:');
    const unknown = await coldtier(['help', 'explode']);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /unknown command "explode"/);
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const printed = await coldtier(['--version']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(`${version}\n`);
  });

  it('is the `coldtier` bin linked at the workspace root (pnpm exec coldtier)', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      execFile('pnpm', ['exec', 'coldtier', 'help', 'run'], { cwd: root }, (error, stdout) =>
        error && typeof error.code !== 'number' ? reject(error) : resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: coldtier run --once');
  });

  it('rejects an unknown command and an unknown option', async () => {
    const unknown = await coldtier(['explode']);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /unknown command "explode"/);
    const inherited = await coldtier(['constructor']);
    expect(inherited.code).toBe(2);
    expectOneLineError(inherited.stderr, /unknown command "constructor"/);
    const option = await coldtier(['status', '--colour']);
    expect(option.code).toBe(2);
    expectOneLineError(option.stderr, /Unknown option '--colour'/);
  });
});

describe('coldtier start', () => {
  it('fails at once with exit 2 when --port is in use, naming the port and --port, and creates no state', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const state = join(dir.path, 'busy-port-state');
      const result = await coldtier(['start', '--port', String(port), '--state-dir', state]);
      expect(result.code).toBe(2);
      expectOneLineError(result.stderr, new RegExp(`--port ${port}: .*:${port} is already in use.*choose another --port`));
      expect(existsSync(state)).toBe(false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

describe('migrate and status against PostgreSQL', () => {
  it('refuses to run on an unmigrated schema, then migrates once', async () => {
    const before = await coldtier(['status', '--config', config], { env });
    expect(before.code).toBe(2);
    expectOneLineError(before.stderr, /watermark schema is not up to date \(pending migrations: 1(, \d+)*\); run `coldtier migrate`/);

    const dry = await coldtier(['migrate', '--config', config, '--dry-run'], { env });
    expect(dry.stdout).toMatch(/^Pending migrations: 1(, \d+)*\n$/);
    const first = await coldtier(['migrate', '--config', config], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(dry.stdout.replace('Pending', 'Applied'));
    const again = await coldtier(['migrate', '--config', config], { env });
    expect(again).toMatchObject({ code: 0, stdout: 'Watermark schema is up to date\n' });
  });

  it('prints a table per configured table', async () => {
    const result = await coldtier(['status', '--config', config], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TABLE\s+LAYER\s+STATUS\s+WATERMARK/);
    expect(result.stdout).toContain('bronze_trades_binance');
    expect(result.stdout).toContain('bronze_trades_kraken');
  });

  it('fails with one line for an unreadable config', async () => {
    const result = await coldtier(['status', '--config', `${dir.path}/missing.yaml`], { env });
    expect(result.code).toBe(2);
    expectOneLineError(result.stderr, /cannot read config file .*missing\.yaml/);
  });

  it('shows the stack trace of an error only with --verbose', async () => {
    const result = await coldtier(['status', '--config', `${dir.path}/missing.yaml`, '--verbose'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});

describe('coldtier run --once', () => {
  it('offloads every table and exits 0', async () => {
    const result = await coldtier(['run', '--once', '--config', config, '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('OFFLOAD CYCLE STARTED');
    expect(result.stderr).toContain('✓ Offload completed: bronze_trades_binance (3 rows in');
    expect(result.stderr).toContain('Success: 2, Failed: 0, Timeout: 0');
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'success', totalRows: 6 });
    const status = await statusJson();
    expect(status.tables.map((t) => t.status)).toEqual(['success', 'success']);
  });

  it('exits 1 when every table fails, leaving the watermarks where they were', async () => {
    const before = await statusJson();
    const result = await coldtier(['run', '--once', '--config', config], { env: { ...env, FAKE_SPARK_MODE: 'fail' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✗ Offload failed: bronze_trades_binance');
    const after = await statusJson();
    expect(after.tables.map((t) => t.watermark)).toEqual(before.tables.map((t) => t.watermark));
    expect(after.tables.map((t) => t.failureCount)).toEqual([1, 1]);
  });

  it('requires --once and writes JSON log lines with --log-format json', async () => {
    const bare = await coldtier(['run', '--config', config], { env });
    expect(bare.code).toBe(2);
    expectOneLineError(bare.stderr, /needs --once/);
    const json = await coldtier(['run', '--once', '--config', config, '--log-format', 'json'], { env });
    expect(json.code).toBe(0);
    const lines = json.stderr.trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    expect(lines.map((l) => l.message)).toContain('OFFLOAD CYCLE COMPLETED');
  });
});

describe('coldtier backfill', () => {
  const range = ['--table', 'bronze_trades_kraken', '--from', '2020-01-01T00:00:00Z', '--to', '2020-01-01T03:00:00Z', '--chunk', '1h'];

  it('offloads a range in chunks, with plain progress lines off a terminal, and resumes from the watermark', async () => {
    const fresh = await createTestDatabase();
    try {
      const freshEnv = { ...env, COLDTIER_DATABASE_URL: fresh.url };
      expect((await coldtier(['migrate', '--config', config], { env: freshEnv })).code).toBe(0);
      const result = await coldtier(['backfill', '--config', config, ...range], { env: freshEnv });
      expect(result.code, result.stderr).toBe(0);
      const progress = result.stderr.split('\n').filter((l) => l.startsWith('Backfill bronze_trades_kraken'));
      expect(progress).toEqual([
        'Backfill bronze_trades_kraken: chunk 1/3 done, up to 2020-01-01T01:00:00.000Z, 3 rows so far',
        'Backfill bronze_trades_kraken: chunk 2/3 done, up to 2020-01-01T02:00:00.000Z, 6 rows so far',
        'Backfill bronze_trades_kraken: chunk 3/3 done, up to 2020-01-01T03:00:00.000Z, 9 rows so far',
        'Backfill bronze_trades_kraken: offloaded 9 rows up to 2020-01-01T03:00:00.000Z',
      ]);
      const status = JSON.parse((await coldtier(['status', '--config', config, '--json'], { env: freshEnv })).stdout) as StatusJson;
      // The fake job reports the window's end as the last row: the chunk boundary (plus the milliseconds the run took).
      expect(watermarkOf(status, 'bronze_trades_kraken')).toMatch(/^2020-01-01T03:00:0/);
      expect(watermarkOf(status, 'bronze_trades_binance')).toBeNull();

      const again = await coldtier(['backfill', '--config', config, ...range], { env: freshEnv });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/Backfill bronze_trades_kraken: already offloaded up to 2020-01-01T03:00:0.*; nothing to do/);
    } finally {
      await fresh.drop();
    }
  });

  it('rejects an unknown table and a malformed date without touching the watermark', async () => {
    const before = await statusJson();
    const unknown = await coldtier(['backfill', '--config', config, ...range.slice(2), '--table', 'bronze_trades_mars'], { env });
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /unknown table "bronze_trades_mars": configured tables are bronze_trades_binance, bronze_trades_kraken/);
    const malformed = await coldtier(['backfill', '--config', config, '--table', 'bronze_trades_kraken', '--from', '2020-02-30', '--to', '2020-03-01'], { env });
    expect(malformed.code).toBe(2);
    expectOneLineError(malformed.stderr, /invalid --from "2020-02-30": expected an ISO-8601 date/);
    const reversed = await coldtier(['backfill', '--config', config, '--table', 'bronze_trades_kraken', '--from', '2020-03-01', '--to', '2020-02-01'], { env });
    expect(reversed.code).toBe(2);
    expectOneLineError(reversed.stderr, /must be before --to/);
    const stable = (s: StatusJson) => s.tables.map(({ table, watermark, status, failureCount }) => ({ table, watermark, status, failureCount }));
    expect(stable(await statusJson())).toEqual(stable(before));
  });
});

describe('coldtier reconcile', () => {
  it('rejects an unknown table, a malformed date and a Spark-runner config with one line each', async () => {
    const unknown = await coldtier(['reconcile', '--config', config, '--table', 'bronze_trades_mars', '--since', '2026-01-01'], { env });
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /unknown table "bronze_trades_mars"/);
    const malformed = await coldtier(['reconcile', '--config', config, '--table', 'bronze_trades_kraken', '--since', '2026-13-01'], { env });
    expect(malformed.code).toBe(2);
    expectOneLineError(malformed.stderr, /invalid --since "2026-13-01"/);
    const spark = await coldtier(['reconcile', '--config', config, '--table', 'bronze_trades_kraken', '--since', '2026-01-01'], { env });
    expect(spark.code).toBe(2);
    expectOneLineError(spark.stderr, /reconcile reads the Iceberg catalog of the embedded runner/);
  });
});

describe('coldtier rules and dashboard', () => {
  it('print the generated rules and dashboard for the configured schedule and job', async () => {
    const rules = await coldtier(['rules', '--config', config, '--job', 'offload'], { env });
    expect(rules.code).toBe(0);
    const parsed = parseYaml(rules.stdout) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    const all = parsed.groups.flatMap((g) => g.rules);
    expect(all.filter((r) => r.alert).map((r) => r.alert)).toContain('IcebergOffloadCycleTooSlow');
    expect(all.find((r) => r.alert === 'IcebergOffloadSchedulerDown')?.expr).toContain('job="offload"');
    const dashboard = await coldtier(['dashboard', '--config', config], { env });
    expect(dashboard.code).toBe(0);
    expect(JSON.parse(dashboard.stdout)).toMatchObject({ uid: 'iceberg-offload', title: 'Iceberg Offload Pipeline' });
  });

  it("apply the config file's per-table threshold overrides to the alerts and the dashboard alike", async () => {
    const path = await writeFakeSparkConfig(
      await mkdtemp(join(dir.path, 'thresholds-')),
      'thresholds:\n  tables:\n    bronze_trades_kraken: { durationForVolume: { acceptable: 250 }, ttlHeadroom: { acceptable: 7200, critical: 600 }, lag: { acceptable: 45, critical: 60 } }\n',
    );
    const rules = await coldtier(['rules', '--config', path]);
    expect(rules.stderr).toBe('');
    const alerts = (parseYaml(rules.stdout) as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups[1]!.rules;
    const expr = (name: string) => alerts.find((r) => r.alert === name)!.expr;
    expect(expr('IcebergOffloadTTLDataAtRisk')).toContain('offload_ttl_headroom_seconds{job="iceberg-scheduler",table="bronze_trades_kraken"} < 600');
    expect(expr('IcebergOffloadTTLDataAtRisk')).toContain('offload_ttl_headroom_seconds{job="iceberg-scheduler",table!~"bronze_trades_kraken"} < 7200');
    expect(expr('IcebergOffloadThroughputLow')).toMatch(/table="bronze_trades_kraken"\}.* > 250 and /);
    expect(expr('IcebergOffloadThroughputLow')).toMatch(/table!~"bronze_trades_kraken"\}.* > 100 and /);
    expect(expr('IcebergOffloadLagCritical')).toContain('offload_lag_minutes{job="iceberg-scheduler",table="bronze_trades_kraken"} > 60');
    const dashboard = await coldtier(['dashboard', '--config', path]);
    const lag = (JSON.parse(dashboard.stdout) as { panels: { title: string; fieldConfig: { overrides: unknown[] } }[] }).panels.find((p) => p.title === 'Offload Lag')!;
    expect(lag.fieldConfig.overrides).toEqual([
      {
        matcher: { id: 'byName', options: 'bronze_trades_kraken' },
        properties: [{ id: 'thresholds', value: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'yellow', value: 45 }, { color: 'red', value: 60 }] } }],
      },
    ]);
  });

  it.each([
    ['an unknown threshold', 'thresholds:\n  tables:\n    bronze_trades_kraken: { lagg: { critical: 5 } }\n', /thresholds\.tables\.bronze_trades_kraken\.lagg: unknown threshold "lagg"/],
    ['a table that is not configured', 'thresholds:\n  tables:\n    nope: { lag: { critical: 5 } }\n', /thresholds\.tables\.nope: unknown table "nope"/],
    ['a bound that is not a number', 'thresholds:\n  overrides: { lag: { critical: soon } }\n', /thresholds\.overrides\.lag\.critical: expected a finite number/],
    ['bounds out of order', 'thresholds:\n  overrides: { lag: { acceptable: 40, critical: 35 } }\n', /thresholds\.overrides\.lag\.acceptable: acceptable 40 is worse than critical 35/],
  ])('refuse %s in the config, naming the key, for every command', async (_, extra, pattern) => {
    const path = await writeFakeSparkConfig(await mkdtemp(join(dir.path, 'bad-thresholds-')), extra);
    for (const command of ['rules', 'dashboard', 'status']) {
      const result = await coldtier([command, '--config', path], { env });
      expect(result.code).toBe(2);
      expectOneLineError(result.stderr, pattern);
    }
  });

  it('print the maintenance alerts and dashboard with --maintenance', async () => {
    const rules = await coldtier(['rules', '--config', config, '--job', 'offload', '--maintenance'], { env });
    expect(rules.code).toBe(0);
    const parsed = parseYaml(rules.stdout) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const alerts = parsed.groups.flatMap((g) => g.rules);
    expect(alerts.map((r) => r.alert)).toEqual(['IcebergMaintenanceFailing', 'IcebergTableFilesAccumulating']);
    // Two maintenance intervals of the default 24 hours.
    expect(alerts[0]!.expr).toContain('offload_maintenance_runs_total{job="offload",status="failed"}[2880m]');
    const dashboard = await coldtier(['dashboard', '--config', config, '--maintenance'], { env });
    expect(JSON.parse(dashboard.stdout)).toMatchObject({ uid: 'iceberg-maintenance', title: 'Iceberg Table Maintenance' });
  });

  it('put the maintenance alerts in the one PrometheusRule of --kubernetes, and refuse --kubernetes --maintenance', async () => {
    const resource = await coldtier(['rules', '--config', config, '--kubernetes'], { env });
    expect(resource.code).toBe(0);
    const parsed = parseYaml(resource.stdout) as { kind: string; spec: { groups: { name: string; rules: { alert?: string; expr: string }[] }[] } };
    expect(parsed.kind).toBe('PrometheusRule');
    const maintenance = parsed.spec.groups.find((g) => g.name === 'iceberg_offload.maintenance');
    expect(maintenance?.rules.map((r) => r.alert)).toEqual(['IcebergMaintenanceFailing', 'IcebergTableFilesAccumulating']);
    expect(parsed.spec.groups.flatMap((g) => g.rules.map((r) => r.alert))).toContain('IcebergOffloadConsecutiveFailures');
    const both = await coldtier(['rules', '--config', config, '--kubernetes', '--maintenance'], { env });
    expect(both.code).toBe(2);
    expectOneLineError(both.stderr, /--kubernetes already includes the maintenance alerts/);
    expect(both.stdout).toBe('');
  });

  it('fail with one line for an unreadable config', async () => {
    for (const command of ['rules', 'dashboard']) {
      const result = await coldtier([command, '--config', `${dir.path}/missing.yaml`]);
      expect(result.code).toBe(2);
      expectOneLineError(result.stderr, /cannot read config file .*missing\.yaml/);
    }
  });
});

describe('coldtier diagnose', () => {
  it('runs the runbook diagnosis on the embedded setup in operators\' words, with cycle durations from the store', { timeout: 180_000 }, async () => {
    const state = `${dir.path}/diagnose-state`;
    expect((await coldtier(['run', '--once', '--state-dir', state])).code).toBe(0);
    const result = await coldtier(['diagnose', '--state-dir', state, '--hours', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      hours: number;
      verdict: { status: string };
      steps: Record<string, { status: string; reason: string | null; data: { cycles?: number } | null }>;
      findings: { scenario: string }[];
    };
    expect(report.hours).toBe(2);
    expect(['healthy', 'warning', 'critical']).toContain(report.verdict.status);
    expect(report.steps['parts']?.status).toBe('ok');
    expect(report.steps['cycleDurations']).toMatchObject({ status: 'ok', data: { cycles: 1 } });
    expect(report.steps['network']?.reason).toMatch(/not available on the embedded engine/);
    expect(report.steps['queries']?.reason).toMatch(/not available on the embedded engine/);
    expect(report.findings.map((f) => f.scenario)).not.toContain('network');
    expect(result.stderr).not.toMatch(/could not measure|SELECT/);
    const human = await coldtier(['diagnose', '--state-dir', `${dir.path}/diagnose-state`]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Diagnosis at .* over the last 6 h: /);
  });

  it('rejects a malformed --hours with one line', async () => {
    const result = await coldtier(['diagnose', '--config', config, '--hours', 'six'], { env });
    expect(result.code).toBe(2);
    expectOneLineError(result.stderr, /--hours/);
  });
});
