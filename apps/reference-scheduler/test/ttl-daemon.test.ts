import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, createTestDatabase, startClickHouseServer, type ClickHouseTestServer, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { generatePrometheusRules, renderPrometheusRules, resolveThresholds } from '@coldtier/offload-diagnostics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { assertBuilt, coldtier, daemonUrl, startDaemon, waitFor, writeFakeSparkConfig } from './cli-helpers.js';

let db: TestDatabase;
let dir: TempDir;
let server: ClickHouseTestServer;
let env: NodeJS.ProcessEnv;

/** Per-table bounds for a one-hour TTL: warning below 50 minutes, critical below 40. */
const TTL_THRESHOLDS = { bronze_trades_binance: { ttlHeadroom: { acceptable: 3000, critical: 2400 } } };
const TABLE_COLUMNS = `(exchange_timestamp DateTime64(3, 'UTC'), sequence_number UInt64, price Float64)`;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
  dir = await createTempDir('coldtier-ttl-daemon-');
  server = await startClickHouseServer();
  env = { COLDTIER_DATABASE_URL: db.url, FAKE_SPARK_MODE: 'fail' };
  const client = server.client();
  await client.command({ query: 'CREATE DATABASE k2' });
  // Binance keeps rows one hour; the oldest waiting ones expire in 30 minutes. Kraken has no TTL.
  await client.command({
    query: `CREATE TABLE k2.bronze_trades_binance ${TABLE_COLUMNS} ENGINE = MergeTree ORDER BY (exchange_timestamp, sequence_number)
      TTL toDateTime(exchange_timestamp) + INTERVAL 1 HOUR`,
  });
  await client.command({ query: `CREATE TABLE k2.bronze_trades_kraken ${TABLE_COLUMNS} ENGINE = MergeTree ORDER BY (exchange_timestamp, sequence_number)` });
  for (const table of ['binance', 'kraken']) {
    await client.command({ query: `INSERT INTO k2.bronze_trades_${table} SELECT now64(3) - INTERVAL 30 MINUTE + toIntervalSecond(number), number, number FROM numbers(100)` });
  }
});
afterAll(async () => {
  await server?.stop();
  await dir?.remove();
  await db?.drop();
});

/** The fake-Spark config (a stalled offload: every job fails) on the test server, edited by `edit`. */
async function writeConfig(name: string, extra: string, edit: (text: string) => string = (text) => text): Promise<string> {
  const text = await readFile(await writeFakeSparkConfig(dir.path, extra), 'utf8');
  const target = join(dir.path, name);
  await writeFile(target, edit(text.replace('url: "http://127.0.0.1:9"', `url: ${JSON.stringify(server.url)}`)));
  return target;
}

const headroomOf = (metrics: string, table: string) => {
  const match = new RegExp(`^offload_ttl_headroom_seconds\\{table="${table}"\\} (\\S+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : undefined;
};

/** Prometheus' `humanizeDuration` for whole seconds, as alert descriptions render it. */
function humanizeDuration(seconds: number): string {
  const [d, h, m, s] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
  if (d > 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function promtool(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.env['PROMTOOL'] ?? 'promtool', args, { cwd }, (error, stdout, stderr) => (error ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)));
  });
}

describe('TTL headroom on the live daemon (ClickHouse HTTP test server, stalled offload)', () => {
  it('exports a falling headroom, stops TTL merges with the guard, and the generated alerts fire on what it exports', { timeout: 180_000 }, async () => {
    const thresholds = `thresholds:\n  tables:\n    bronze_trades_binance: { ttlHeadroom: { acceptable: 3000, critical: 2400 } }\n`;
    const config = await writeConfig('ttl.yaml', thresholds, (text) =>
      text.replace('timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }', 'timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, ttlGuard: stop-merges }'),
    );
    expect((await coldtier(['migrate', '--config', config], { env })).code).toBe(0);

    const daemon = startDaemon(['--config', config, '--interval-seconds', '2', '--port', '0'], { env });
    try {
      const url = await daemonUrl(daemon);
      const first = await waitFor('a headroom sample', async () => headroomOf(await (await fetch(`${url}/metrics`)).text(), 'bronze_trades_binance'), daemon);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const metrics = await waitFor('the guard to stop TTL merges', async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return /^offload_ttl_guard_actions_total\{table="bronze_trades_binance",action="stop",outcome="done"\} 1$/m.test(text) ? text : undefined;
      }, daemon);
      const second = headroomOf(metrics, 'bronze_trades_binance')!;
      expect(first).toBeLessThan(1800);
      expect(second).toBeLessThan(first);
      expect(headroomOf(metrics, 'bronze_trades_kraken')).toBeUndefined();
      expect(daemon.output()).toContain('TTL guard: stopped TTL merges on k2.bronze_trades_binance');
      const status = (await (await fetch(`${url}/status`)).json()) as { tables: { table: string; ttl?: { headroomSeconds: number; guard: string } }[] };
      expect(status.tables.find((t) => t.table === 'bronze_trades_binance')?.ttl).toMatchObject({ guard: 'stop-merges' });
      expect(status.tables.find((t) => t.table === 'bronze_trades_kraken')?.ttl).toBeUndefined();

      // The series the daemon exported, held for 20 minutes as Prometheus would scrape it, through the generated rules.
      const value = Math.round(second);
      const rules = generatePrometheusRules({ thresholds: resolveThresholds({ tables: TTL_THRESHOLDS }) }).groups[1].rules;
      const expected = (name: string) => {
        const rule = rules.find((r) => r.alert === name)!;
        const render = (template: string) =>
          template.replaceAll('{{ $labels.table }}', 'bronze_trades_binance').replaceAll('{{ $value | humanizeDuration }}', humanizeDuration(value));
        return [
          {
            exp_labels: { ...rule.labels, job: 'iceberg-scheduler', instance: 'scheduler:8000', table: 'bronze_trades_binance' },
            exp_annotations: { summary: render(rule.annotations.summary), description: render(rule.annotations.description), runbook_url: rule.annotations.runbook_url },
          },
        ];
      };
      const tests = {
        rule_files: ['rules.yml'],
        evaluation_interval: '30s',
        tests: [
          {
            interval: '1m',
            input_series: [{ series: `offload_ttl_headroom_seconds{job="iceberg-scheduler",instance="scheduler:8000",table="bronze_trades_binance"}`, values: `${value}+0x20` }],
            alert_rule_test: ['IcebergOffloadTTLDataAtRisk', 'IcebergOffloadTTLHeadroomLow'].map((alertname) => ({ eval_time: '20m', alertname, exp_alerts: expected(alertname) })),
          },
        ],
      };
      await writeFile(join(dir.path, 'rules.yml'), renderPrometheusRules({ thresholds: resolveThresholds({ tables: TTL_THRESHOLDS }) }));
      await writeFile(join(dir.path, 'live.yml'), stringify(tests));
      expect(await promtool(['test', 'rules', 'live.yml'], dir.path)).toContain('SUCCESS');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    // The CLI beside it shows the same headroom: about half an hour for binance, none for kraken (no TTL).
    const status = await coldtier(['status', '--config', config], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^TABLE +LAYER +STATUS +WATERMARK +LAG \(min\) +TTL HEADROOM/);
    expect(status.stdout).toMatch(/^bronze_trades_binance .* 2\dm \d+s /m);
    expect(status.stdout).toMatch(/^bronze_trades_kraken +bronze +failed +- +[\d.]+ +- /m);
    const diagnose = await coldtier(['diagnose', '--config', config, '--json'], { env });
    expect(diagnose.code, diagnose.stderr).toBe(0);
    const report = JSON.parse(diagnose.stdout) as { ttl: { table: string; headroomSeconds: number; rules: string[]; guard: string }[] };
    expect(report.ttl).toMatchObject([{ table: 'bronze_trades_binance', rules: ['toDateTime(exchange_timestamp) + toIntervalHour(1)'], guard: 'stop-merges' }]);
    expect(report.ttl[0]!.headroomSeconds).toBeLessThan(1800);
  });

  it('coldtier view prints and creates the view over both tiers, and names an unknown table', { timeout: 120_000 }, async () => {
    const config = await writeConfig('view.yaml', '');
    const embedded = await writeConfig('view-embedded.yaml', '', (text) =>
      text.replace(/runner:\n( {2}.*\n)+/, `runner: { kind: embedded, warehouse: ${JSON.stringify(join(dir.path, 'warehouse'))} }\n`),
    );
    const printed = await coldtier(['view', '--config', embedded, '--table', 'bronze_trades_kraken'], { env });
    expect(printed.code, printed.stderr).toBe(0);
    // Nothing committed yet: every row is hot.
    expect(printed.stdout.trim()).toBe(
      'CREATE OR REPLACE VIEW `k2`.`bronze_trades_kraken_all` AS SELECT `exchange_timestamp`, `sequence_number`, `price` FROM `k2`.`bronze_trades_kraken`;',
    );
    const applied = await coldtier(['view', '--config', embedded, '--table', 'bronze_trades_kraken', '--apply'], { env });
    expect(applied.stdout).toBe('created view k2.bronze_trades_kraken_all\n');
    const result = await server.client().query({ query: 'SELECT toString(count()) AS n FROM k2.bronze_trades_kraken_all', format: 'JSONEachRow' });
    expect(await result.json()).toEqual([{ n: '100' }]);

    const unknown = await coldtier(['view', '--config', embedded, '--table', 'nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^coldtier view: unknown table "nope": configured tables are bronze_trades_binance, bronze_trades_kraken$/);
    const spark = await coldtier(['view', '--config', config, '--table', 'bronze_trades_kraken'], { env });
    expect(spark.code).toBe(2);
    expect(spark.stderr).toContain('runner.kind is "spark"');
  });
});
