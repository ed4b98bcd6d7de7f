import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** npm's download cache, git-ignored, so reruns install from disk. */
const NPM_CACHE = join(ROOT, '.cache', 'npm');
const PUBLISHED = ['offload-core', 'offload-metrics', 'offload-diagnostics'] as const;

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error(`${command} not found`));
      else resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const npmInstall = (cwd: string, ...args: string[]) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--cache', NPM_CACHE, ...args], cwd);

/** What a consumer writes: every package root and subpath, values and types, strictest settings. */
const CONSUMER_TS = `import { CycleOrchestrator, parseConfig, PostgresWatermarkStore, type OffloadConfig, type WatermarkStore } from '@coldtier/offload-core';
import { InMemoryWatermarkStore } from '@coldtier/offload-core/testing';
import { createOffloadMetrics, recordOffloadEvents, startMetricsServer, type OffloadMetrics } from '@coldtier/offload-metrics';
import { generateGrafanaDashboard, renderPrometheusRules, resolveThresholds, runDiagnostics, type ThresholdSet } from '@coldtier/offload-diagnostics';
import { Registry } from 'prom-client';

export const values = [CycleOrchestrator, parseConfig, PostgresWatermarkStore, InMemoryWatermarkStore, recordOffloadEvents, startMetricsServer, generateGrafanaDashboard, runDiagnostics];
const store: WatermarkStore = new InMemoryWatermarkStore();
const thresholds: ThresholdSet = resolveThresholds({ tables: { quiet: { durationForVolume: { acceptable: 200 } } } });
export const rules: string = renderPrometheusRules({ thresholds });
export const metrics: OffloadMetrics = createOffloadMetrics({ registry: new Registry(), tables: [{ name: 'quiet', layer: 'bronze' }], version: '1', scheduleMinutes: 15, lagSource: store });
export type Config = OffloadConfig;
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    skipLibCheck: false,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    // No ambient @types: what the declarations need, they must bring themselves.
    types: [],
  },
  files: ['index.ts'],
};

let dir: TempDir;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  for (const name of PUBLISHED) {
    if (!existsSync(join(ROOT, 'packages', name, 'dist', 'index.d.ts'))) throw new Error(`packages/${name}/dist is missing: run \`pnpm build\` first`);
  }
  dir = await createTempDir('coldtier-packed-');
  for (const name of PUBLISHED) {
    const packed = await run('pnpm', ['pack', '--pack-destination', dir.path], join(ROOT, 'packages', name));
    expect(packed.code, packed.output).toBe(0);
    tarballs.set(`@coldtier/${name}`, join(dir.path, `coldtier-${name}-0.1.0.tgz`));
  }
}, 300_000);

afterAll(async () => {
  await dir?.remove();
});

async function consumer(name: string, promClient: string): Promise<string> {
  const path = join(dir.path, name);
  await mkdir(path);
  const dependencies = Object.fromEntries([...tarballs].map(([pkg, tgz]) => [pkg, `file:${tgz}`]));
  // The packed packages depend on each other by version; point those at the tarballs too, never the registry.
  const overrides = Object.fromEntries([...tarballs.keys()].map((pkg) => [pkg, `$${pkg}`]));
  await writeFile(join(path, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies: { ...dependencies, 'prom-client': promClient }, overrides }, null, 2));
  await writeFile(join(path, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  await writeFile(join(path, 'index.ts'), CONSUMER_TS);
  return path;
}

describe('packages as published (pnpm pack tarballs)', () => {
  it('carry the license, repository, engines, README and CHANGELOG, and prom-client as a peer', async () => {
    for (const name of PUBLISHED) {
      const listing = await run('tar', ['tzf', tarballs.get(`@coldtier/${name}`)!], dir.path);
      expect(listing.output.split('\n')).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/CHANGELOG.md', 'package/dist/index.d.ts']));
      const manifest = JSON.parse((await run('tar', ['xzOf', tarballs.get(`@coldtier/${name}`)!, 'package/package.json'], dir.path)).output) as Record<string, unknown>;
      expect(manifest).toMatchObject({ license: 'Apache-2.0', repository: { type: 'git', directory: `packages/${name}` }, engines: { node: expect.any(String) } });
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
      expect(manifest.dependencies).not.toHaveProperty('prom-client');
    }
    const metrics = JSON.parse((await run('tar', ['xzOf', tarballs.get('@coldtier/offload-metrics')!, 'package/package.json'], dir.path)).output) as { peerDependencies: Record<string, string> };
    expect(metrics.peerDependencies).toEqual({ 'prom-client': '^15.0.0' });
    const testSupport = JSON.parse(await readFile(join(ROOT, 'packages', 'test-support', 'package.json'), 'utf8')) as { private?: boolean };
    expect(testSupport.private).toBe(true);
  });

  it('type-check in a strict NodeNext consumer with skipLibCheck off and no extra @types, and load at run time', { timeout: 300_000 }, async () => {
    const path = await consumer('consumer', '^15.1.3');
    const install = await npmInstall(path);
    expect(install.code, install.output).toBe(0);
    const tsc = await run(process.execPath, [TSC, '-p', '.'], path);
    expect(tsc.output).toBe('');
    expect(tsc.code).toBe(0);
    const load = await run(
      process.execPath,
      ['--input-type=module', '-e', "for (const p of ['@coldtier/offload-core', '@coldtier/offload-core/testing', '@coldtier/offload-metrics', '@coldtier/offload-diagnostics']) await import(p); console.log('loaded')"],
      path,
    );
    expect(load.output.trim()).toBe('loaded');
  });

  it('refuse a consumer on prom-client 14 instead of installing a second copy', { timeout: 300_000 }, async () => {
    const path = await consumer('old-prom-client', '^14.2.0');
    const install = await npmInstall(path);
    expect(install.code).not.toBe(0);
    expect(install.output).toMatch(/ERESOLVE[\s\S]*peer prom-client@"\^15\.0\.0"/);
  });
});
