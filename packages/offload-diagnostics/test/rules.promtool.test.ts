import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_NAMES, renderPrometheusRules } from '../src/rules/index.js';
import { resolveThresholds } from '../src/thresholds/index.js';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const CASES = fileURLToPath(new URL('./promtool/', import.meta.url));
/** The name the files in test/promtool/ list under `rule_files`. */
const RULES_FILE = 'iceberg-offload-rules.yml';

interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs promtool; a missing binary fails the test, it never skips (CI installs prometheus). */
function promtool(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`promtool not found (${PROMTOOL}): install prometheus (apt-get install prometheus) or set PROMTOOL`));
      } else {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output });
      }
    });
  });
}

const caseFiles = (await readdir(CASES)).filter((file) => file.endsWith('.yml')).sort();

let dir: TempDir;

beforeAll(async () => {
  dir = await createTempDir('coldtier-promtool-');
  await writeFile(join(dir.path, RULES_FILE), renderPrometheusRules());
  await Promise.all(caseFiles.map((file) => copyFile(join(CASES, file), join(dir.path, file))));
});

afterAll(async () => {
  await dir.remove();
});

describe('generated Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const run = await promtool(['check', 'rules', RULES_FILE], dir.path);
    expect(run.output).toContain('SUCCESS: 14 rules found');
    expect(run.code, run.output).toBe(0);
  });

  it('pass promtool check rules with per-table overrides on a 30-minute schedule', async () => {
    const thresholds = resolveThresholds({
      scheduleMinutes: 30,
      tables: { ohlcv_1d: { watermarkAge: { critical: 90_000 }, lag: { acceptable: 1500, critical: 1600 }, ttlHeadroom: { acceptable: 600, critical: 120 } } },
    });
    await writeFile(join(dir.path, 'overridden.yml'), renderPrometheusRules({ thresholds }));
    const run = await promtool(['check', 'rules', 'overridden.yml'], dir.path);
    expect(run.code, run.output).toBe(0);
  });

  it('honour a per-table throughput override (promtool unit test on rules generated with it)', async () => {
    const overridden = await createTempDir('coldtier-promtool-override-');
    try {
      const thresholds = resolveThresholds({ tables: { slow_table: { durationForVolume: { acceptable: 150 } } } });
      await writeFile(join(overridden.path, RULES_FILE), renderPrometheusRules({ thresholds }));
      await copyFile(join(CASES, 'overrides', 'throughput-per-table.yml'), join(overridden.path, 'case.yml'));
      const run = await promtool(['test', 'rules', 'case.yml'], overridden.path);
      expect(run.code, run.output).toBe(0);
    } finally {
      await overridden.remove();
    }
  });

  it.each(caseFiles)('pass the promtool unit tests of %s', async (file) => {
    const run = await promtool(['test', 'rules', file], dir.path);
    expect(run.code, run.output).toBe(0);
  });

  it('are tested firing and silent for every alert', async () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of caseFiles) {
      const doc = parse(await readFile(join(CASES, file), 'utf8')) as {
        rule_files: string[];
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      expect(doc.rule_files).toEqual([RULES_FILE]);
      for (const check of doc.tests.flatMap((test) => test.alert_rule_test ?? [])) {
        (check.exp_alerts.length > 0 ? firing : silent).add(check.alertname);
      }
    }
    expect([...firing].sort()).toEqual([...ALERT_NAMES].sort());
    expect([...silent].sort()).toEqual([...ALERT_NAMES].sort());
  });
});
