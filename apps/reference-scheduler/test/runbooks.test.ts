import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALERT_NAMES, generatePrometheusRules } from '@coldtier/offload-diagnostics';
import { describe, expect, it } from 'vitest';
import { assertBuilt, coldtier } from './cli-helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUNBOOKS = join(ROOT, 'docs', 'runbooks');

/** Markdown a user of a clone reads: READMEs, docs/ and deploy/, never node_modules or build output. */
async function markdownFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await markdownFiles(path)));
    else if (entry.name.endsWith('.md')) found.push(path);
  }
  return found;
}

describe('runbooks', () => {
  const alerts = generatePrometheusRules().groups[1].rules;

  it('exist for every alert, at the runbook_url it links, and name that alert', async () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([...ALERT_NAMES].sort());
    for (const alert of alerts) {
      const file = join(ROOT, alert.annotations.runbook_url);
      expect(existsSync(file), `${alert.alert}: ${alert.annotations.runbook_url}`).toBe(true);
      expect(await readFile(file, 'utf8'), file).toContain(alert.alert);
    }
  });

  it("cover the five runbooks of the monitoring guide and Coldtier's own", async () => {
    const names = (await readdir(RUNBOOKS)).filter((f) => f !== 'README.md').sort();
    expect(names).toEqual([
      'iceberg-offload-failure.md',
      'iceberg-offload-lag.md',
      'iceberg-offload-performance.md',
      'iceberg-offload-ttl-headroom.md',
      'iceberg-offload-watermark-recovery.md',
      'iceberg-scheduler-recovery.md',
      'iceberg-table-maintenance.md',
    ]);
  });

  it('tie the performance steps to every diagnose step', async () => {
    const text = await readFile(join(RUNBOOKS, 'iceberg-offload-performance.md'), 'utf8');
    for (const step of ['cycleDurations', 'tableDurations', 'volume', 'resources', 'network', 'queries', 'parts', 'watermarks']) {
      expect(text).toContain(`\`${step}\``);
    }
  });

  it('use only coldtier commands that exist', { timeout: 120_000 }, async () => {
    assertBuilt();
    const commands = new Set<string>();
    for (const file of await readdir(RUNBOOKS)) {
      const text = await readFile(join(RUNBOOKS, file), 'utf8');
      for (const match of text.matchAll(/(?<!-n )(?<![\w/-])coldtier ([a-z]+)\b/g)) commands.add(match[1]!);
    }
    expect([...commands].sort()).toEqual(expect.arrayContaining(['backfill', 'diagnose', 'reconcile', 'run', 'status']));
    for (const command of commands) {
      const result = await coldtier([command, '--help']);
      expect(result.code, `coldtier ${command} --help: ${result.stderr}`).toBe(0);
    }
  });
});

describe('documentation links', () => {
  it('stay inside the repository and point at files that exist', async () => {
    const broken: string[] = [];
    for (const file of await markdownFiles(ROOT)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        const path = resolve(dirname(file), target);
        const where = `${relative(ROOT, file)} -> ${match[1]}`;
        if (relative(ROOT, path).startsWith('..')) broken.push(`${where} (outside the repository)`);
        else if (!existsSync(path)) broken.push(`${where} (missing)`);
      }
      // The seeds' folder beside the steering repository is not in a user's clone.
      if (/\.\.\/shared\b/.test(text)) broken.push(`${relative(ROOT, file)} mentions the steering repository's shared folder`);
    }
    expect(broken).toEqual([]);
  });
});
