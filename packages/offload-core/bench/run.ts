/**
 * Offload benchmark: ClickHouse's Parquet export (a) vs Coldtier's Iceberg
 * offload (b) vs ClickHouse's own Iceberg insert (c), on the same window of
 * generated bronze trades, each in its own process.
 * Usage: node bench/dist/run.js [--rows N] (default 5,000,000)
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './measure.js';

const RESULT_PREFIX = 'BENCH_RESULT ';
const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));
const RSS_GOAL_MIB = 512;
const RATIO_GOAL = 0.7;

function rowsArg(argv: readonly string[]): number {
  const i = argv.indexOf('--rows');
  const rows = i < 0 ? 5_000_000 : Number(argv[i + 1]?.replace(/_/g, ''));
  if (!Number.isInteger(rows) || rows <= 0) throw new Error(`--rows: expected a positive integer, got ${argv[i + 1]}`);
  return rows;
}

function measure(kind: string, dataDir: string, out: string, rows: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MEASURE, kind, dataDir, out, String(rows)], {
      // chdb confines file table engines to user_files_path, its working directory.
      cwd: out,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) return reject(new Error(`${kind} exited with ${code}:\n${stdout}`));
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as Measurement);
    });
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(rows: number, results: Record<'a' | 'b' | 'c', Measurement>): void {
  const label = { a: '(a) ClickHouse → Parquet file', b: '(b) Coldtier → Iceberg', c: '(c) ClickHouse → Iceberg (experimental)' };
  console.log(`\nOffload of ${fmt(rows)} bronze rows (one window, FINAL, cursor order), each in its own process\n`);
  console.log(`${'measurement'.padEnd(42)}${'rows/s'.padStart(12)}${'seconds'.padStart(10)}${'MiB out'.padStart(10)}${'files'.padStart(7)}${'peak RSS MiB'.padStart(14)}`);
  for (const key of ['a', 'b', 'c'] as const) {
    const m = results[key];
    console.log(
      `${label[key].padEnd(42)}${fmt(m.rows / m.seconds).padStart(12)}${fmt(m.seconds, 2).padStart(10)}${fmt(m.bytes / 2 ** 20, 1).padStart(10)}${String(m.files).padStart(7)}${fmt(m.maxRssMiB).padStart(14)}`,
    );
  }
  const { a, b, c } = results;
  const ba = a.seconds / b.seconds;
  console.log(`\nb/a = ${fmt(ba, 2)} (goal ≥ ${RATIO_GOAL}: ${ba >= RATIO_GOAL ? 'met' : 'NOT met'})`);
  console.log(`b/c = ${fmt(c.seconds / b.seconds, 2)}`);
  console.log(`Coldtier peak RSS ${fmt(b.maxRssMiB)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB at 10M rows: ${b.maxRssMiB <= RSS_GOAL_MIB ? 'met' : 'NOT met'})`);
  console.log(`Coldtier phases (s): ${Object.entries(b.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
}

async function main(): Promise<void> {
  const rows = rowsArg(process.argv.slice(2));
  const root = await mkdtemp(join(tmpdir(), 'coldtier-bench-'));
  try {
    const dataDir = join(root, 'chdb');
    console.log(`generating ${fmt(rows)} rows in ${dataDir} ...`);
    const setup = await measure('setup', dataDir, root, rows);
    if (setup.rows !== rows) throw new Error(`generated ${setup.rows} rows, expected ${rows}`);
    console.log(`generated in ${fmt(setup.seconds, 1)} s`);
    const results = {} as Record<'a' | 'b' | 'c', Measurement>;
    for (const [key, kind] of [['a', 'export'], ['b', 'coldtier'], ['c', 'clickhouse-iceberg']] as const) {
      const out = join(root, kind);
      await mkdir(out);
      results[key] = await measure(kind, dataDir, out, rows);
      console.log(`${kind}: ${fmt(results[key].seconds, 2)} s`);
      await rm(out, { recursive: true, force: true });
    }
    report(rows, results);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
