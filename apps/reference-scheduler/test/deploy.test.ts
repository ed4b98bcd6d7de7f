import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { bronzeTableDdl, insertTrades } from '@coldtier/offload-core';
import { MAINTENANCE_ALERT_NAMES } from '@coldtier/offload-diagnostics';
import { createTempDir, createTestDatabase, startClickHouseServer, type ClickHouseTestServer, type TempDir, type TestDatabase } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { assertBuilt, coldtier, type CliResult } from './cli-helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'apps', 'reference-scheduler', 'deploy', 'iceberg-offload-scheduler.service');
const KUBERNETES = join(ROOT, 'deploy', 'kubernetes');
const KUBERNETES_VALIDATE = join(ROOT, '.venv-deploy', 'bin', 'kubernetes-validate');
/** Where the image and the systemd unit expect the production install. */
const INSTALL_DIR = '/opt/coldtier';
const INSTALL_LIMIT_BYTES = 80 * 1024 * 1024;

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error(`${command} not found`));
      else resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
/** The image's production install command, as the Dockerfile runs it. */
const deployArgs = /^RUN pnpm (.* deploy .*) (\S+)$/m.exec(dockerfile);
const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;

describe('systemd unit', () => {
  it('passes systemd-analyze verify', async () => {
    const verify = await run('systemd-analyze', ['verify', UNIT]);
    expect(verify.output).toBe('');
    expect(verify.code).toBe(0);
  });

  it('rates at most 5.0 in systemd-analyze security', async () => {
    // --threshold is in tenths; the command fails above it.
    const security = await run('systemd-analyze', ['security', '--offline=true', '--threshold=50', UNIT]);
    const score = /Overall exposure level for \S+: (\d+\.\d+)/.exec(security.output)?.[1];
    expect(Number(score), security.output).toBeLessThanOrEqual(5);
    expect(security.code, security.output).toBe(0);
  });

  it('runs the installed production build with its own state and log directories', async () => {
    const unit = await readFile(UNIT, 'utf8');
    expect(unit).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${INSTALL_DIR}/dist/cli\\.js start --config /etc/coldtier/coldtier\\.yaml `, 'm'));
    expect(unit).toMatch(/^StateDirectory=coldtier$/m);
    expect(unit).toMatch(/^LogsDirectory=coldtier$/m);
    expect(unit).toContain('--log-file /var/log/coldtier/');
    expect(entrypoint).toEqual(['node', `${INSTALL_DIR}/dist/cli.js`]);
  });
});

describe('Kubernetes manifests', () => {
  const resources = async () => {
    const kustomization = parseYaml(await readFile(join(KUBERNETES, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const files = (await readdir(KUBERNETES)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    expect([...kustomization.resources].sort()).toEqual(files);
    return Promise.all(
      files.map(async (file) => ({ file, doc: parseYaml(await readFile(join(KUBERNETES, file), 'utf8')) as { apiVersion: string; kind: string; spec?: Record<string, unknown> } })),
    );
  };

  it('validate against the Kubernetes schemas (kubernetes-validate --strict) and the prometheus-operator CRD schemas', async () => {
    if (!existsSync(KUBERNETES_VALIDATE)) throw new Error(`${KUBERNETES_VALIDATE} missing: run scripts/deploy-tools.sh (pnpm test does)`);
    const all = await resources();
    const crds = all.filter(({ doc }) => doc.apiVersion === 'monitoring.coreos.com/v1');
    const core = all.filter((r) => !crds.includes(r));
    const validated = await run(KUBERNETES_VALIDATE, ['--strict', ...core.map((r) => join(KUBERNETES, r.file))]);
    expect(validated.code, validated.output).toBe(0);
    expect(validated.output.match(/passed for resource/g)).toHaveLength(core.length);
    expect(crds.map((r) => r.doc.kind).sort()).toEqual(['PodMonitor', 'PrometheusRule']);
    for (const { doc } of crds) {
      const model = doc.kind === 'PodMonitor' ? new PodMonitor(doc as never) : new PrometheusRule(doc as never);
      expect(() => model.validate()).not.toThrow();
    }
  });

  it('the validator rejects what is wrong (a misspelt field, a string replica count)', async () => {
    const dir = await createTempDir('coldtier-k8s-');
    try {
      const deployment = await readFile(join(KUBERNETES, 'deployment.yaml'), 'utf8');
      await writeFile(join(dir.path, 'typo.yaml'), deployment.replace('terminationGracePeriodSeconds', 'terminationGracePeriodSecond'));
      await writeFile(join(dir.path, 'type.yaml'), deployment.replace('replicas: 2', 'replicas: "two"'));
      for (const file of ['typo.yaml', 'type.yaml']) {
        expect((await run(KUBERNETES_VALIDATE, ['--strict', join(dir.path, file)])).code, file).not.toBe(0);
      }
    } finally {
      await dir.remove();
    }
  });

  it('run two replicas of the image, secrets by reference only, scraped per pod as job iceberg-scheduler', async () => {
    const all = await resources();
    const deployment = all.find((r) => r.doc.kind === 'Deployment')!.doc as unknown as {
      spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; containers: { args: string[]; env: { valueFrom?: { secretKeyRef?: unknown }; value?: string }[] }[] } } };
    };
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.containers[0]!.args.slice(0, 3)).toEqual(cmd!.slice(0, 3));
    for (const env of pod.containers[0]!.env) {
      expect(env.value).toBeUndefined();
      expect(env.valueFrom?.secretKeyRef).toBeDefined();
    }
    const monitor = JSON.stringify(all.find((r) => r.doc.kind === 'PodMonitor')!.doc);
    expect(monitor).toContain('"targetLabel":"job","replacement":"iceberg-scheduler"');
  });

  it('ship the PrometheusRule that coldtier rules --kubernetes generates from the ConfigMap', async () => {
    assertBuilt();
    const configMap = parseYaml(await readFile(join(KUBERNETES, 'configmap.yaml'), 'utf8')) as { data: Record<string, string> };
    const committed = await readFile(join(KUBERNETES, 'prometheusrule.yaml'), 'utf8');
    const runbook = /runbook_url: (\S+)\/iceberg-offload-failure\.md/.exec(committed)?.[1];
    expect(runbook).toBeDefined();
    const dir = await createTempDir('coldtier-k8s-');
    try {
      await writeFile(join(dir.path, 'coldtier.yaml'), configMap.data['coldtier.yaml']!);
      const generated = await coldtier(['rules', '--kubernetes', '--namespace', 'coldtier', '--config', join(dir.path, 'coldtier.yaml'), '--runbook-base-url', runbook!]);
      expect(generated.stderr).toBe('');
      expect(committed).toBe(generated.stdout);
      // The ConfigMap's per-table override reaches the alert.
      expect(committed).toMatch(/table="bronze_trades_kraken"\}.* > 200 and /);
      expect(parseAllDocuments(committed)).toHaveLength(1);
      // One kubectl apply carries the maintenance alerts too.
      const spec = (parseYaml(committed) as { spec: { groups: { name: string; rules: { alert?: string }[] }[] } }).spec;
      expect(spec.groups.map((g) => g.name)).toContain('iceberg_offload.maintenance');
      const alerts = spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
      for (const alert of MAINTENANCE_ALERT_NAMES) expect(alerts).toContain(alert);
    } finally {
      await dir.remove();
    }
  });
});

/** Bytes of every file under `path`, as `du` counts content (links not followed). */
async function sizeOf(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

// One production install (`pnpm deploy`, about a minute) serves the image's checks and the install's own.
describe('container image and production install (pnpm deploy --prod --no-optional)', () => {
  let dir: TempDir;
  let db: TestDatabase;
  let install: string;

  beforeAll(async () => {
    assertBuilt();
    expect(deployArgs, 'the Dockerfile runs pnpm ... deploy ... /opt/coldtier').not.toBeNull();
    expect(deployArgs![2]).toBe(INSTALL_DIR);
    dir = await createTempDir('coldtier-image-');
    db = await createTestDatabase();
    install = join(dir.path, 'opt-coldtier');
    const deployed = await run('pnpm', [...deployArgs![1]!.split(' '), install]);
    expect(deployed.code, deployed.output).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
    await dir?.remove();
  });

  /** The image's ENTRYPOINT, with the install where this test put it. */
  const image = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [entrypoint![1]!.replace(INSTALL_DIR, install), ...args], { cwd: dir.path, env });
  /** The installed CLI through the test helper (separate stdout and stderr). */
  const installed = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    coldtier(args, { cli: join(install, 'dist', 'cli.js'), cwd: dir.path, env });

  it('holds production dependencies only: no chdb, no PGlite, no test tooling', async () => {
    const store = await readdir(join(install, 'node_modules', '.pnpm'));
    for (const unwanted of ['chdb', '@electric-sql+pglite', 'vitest', 'typescript', '@coldtier+test-support']) {
      expect(store.filter((name) => name.startsWith(unwanted)), unwanted).toEqual([]);
    }
    expect(existsSync(join(install, 'dist', 'cli.js'))).toBe(true);
  });

  it(`is at most ${INSTALL_LIMIT_BYTES / 1024 / 1024} MB and holds none of the embedded demo's engines`, async () => {
    expect(await sizeOf(install)).toBeLessThanOrEqual(INSTALL_LIMIT_BYTES);
    const packages = await readdir(join(install, 'node_modules', '.pnpm'));
    expect(packages.filter((p) => /chdb|pglite/.test(p))).toEqual([]);
  });

  it('says plainly that the embedded setup is not in the image', async () => {
    const result = await image(['status', '--state-dir', join(dir.path, 'state')]);
    expect(result.code).toBe(2);
    expect(result.output.trim()).toMatch(/^coldtier status: the embedded setup needs the optional package @electric-sql\/pglite, which is not installed/);
  });

  it('refuses the embedded setup with one line naming the missing package', async () => {
    const result = await installed(['run', '--once', '--state-dir', join(dir.path, 'state')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/the embedded setup needs the optional package (chdb|@electric-sql\/pglite), which is not installed/);
  });

  describe('against a ClickHouse server and PostgreSQL', () => {
    let server: ClickHouseTestServer;
    let cycleDb: TestDatabase;
    beforeAll(async () => {
      [server, cycleDb] = await Promise.all([startClickHouseServer({ password: 'pw' }), createTestDatabase()]);
      const client = server.client();
      await client.command({ query: 'CREATE DATABASE k2' });
      await client.command({ query: bronzeTableDdl('k2', 'bronze_trades_binance', { ttlDays: null }) });
      const hourAgo = Date.now() - 3_600_000;
      await insertTrades(client, 'k2', 'bronze_trades_binance', { exchange: 'binance', firstSequence: 1n, count: 500, from: new Date(hourAgo - 3_600_000), to: new Date(hourAgo) });
    });
    afterAll(async () => {
      await server?.stop();
      await cycleDb?.drop();
    });

    it('runs a cycle without chdb', { timeout: 120_000 }, async () => {
      const config = join(dir.path, 'cycle.yaml');
      await writeFile(
        config,
        `clickhouse: { url: ${JSON.stringify(server.url)} }
runner: { kind: embedded, warehouse: ${JSON.stringify(join(dir.path, 'cycle-warehouse'))} }
tables:
  - { source: k2.bronze_trades_binance, target: cold.bronze_trades_binance, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true }
`,
      );
      const env = { COLDTIER_DATABASE_URL: cycleDb.url, CLICKHOUSE_PASSWORD: server.password };
      const migrated = await installed(['migrate', '--config', config], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      const run = await installed(['run', '--once', '--config', config, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'success', totalRows: 500 });
    });
  });

  it('runs its CMD (start) against PostgreSQL and a ClickHouse URL: serves /healthz and /metrics, stops cleanly on SIGTERM', { timeout: 120_000 }, async () => {
    const config = join(dir.path, 'coldtier.yaml');
    await writeFile(
      config,
      `clickhouse: { url: "http://127.0.0.1:9" }
retry: { retries: 0 }
runner: { kind: embedded, catalog: sql, warehouse: ${JSON.stringify(join(dir.path, 'warehouse'))} }
tables:
  - { source: k2.bronze_trades_binance, target: cold.bronze_trades_binance, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }
`,
    );
    const env = { COLDTIER_DATABASE_URL: db.url };
    const migrated = await image(['migrate', '--config', config], env);
    expect(migrated.code, migrated.output).toBe(0);

    const args = cmd!.map((arg) => (arg === '/etc/coldtier/coldtier.yaml' ? config : arg === '8000' ? '0' : arg));
    const child = spawn(process.execPath, [entrypoint![1]!.replace(INSTALL_DIR, install), ...args], {
      cwd: dir.path,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let url: string | undefined;
      for (let i = 0; i < 240 && url === undefined && child.exitCode === null; i++) {
        url = /Metrics server started on (http:\/\/\S+?)\/? /.exec(output)?.[1];
        if (url === undefined) await new Promise((r) => setTimeout(r, 250));
      }
      expect(url, output).toBeDefined();
      const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      expect(metrics).toContain('offload_info{');
      expect(metrics).toContain('offload_last_batch_rows');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  });
});
