/**
 * Offload benchmark: ClickHouse's Parquet export (a) vs Coldtier's Iceberg
 * offload (b) vs ClickHouse's own Iceberg insert (c), on the same window of
 * generated bronze trades, each in its own process.
 * Usage: node bench/dist/run.js [--rows N] [--repeat R] [--mode server-file|stream]
 * (defaults 5,000,000 rows, 1 repetition, server-file: chdb writes the files).
 * With R > 1 each measurement runs R times, interleaved, and the medians are reported.
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

function intArg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const value = i < 0 ? fallback : Number(argv[i + 1]?.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: expected a positive integer, got ${argv[i + 1]}`);
  return value;
}

function modeArg(argv: readonly string[]): string {
  const i = argv.indexOf('--mode');
  const mode = i < 0 ? 'server-file' : argv[i + 1];
  if (mode !== 'server-file' && mode !== 'stream') throw new Error(`--mode: expected server-file or stream, got ${mode}`);
  return mode;
}

function measure(kind: string, dataDir: string, out: string, rows: number, mode: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MEASURE, kind, dataDir, out, String(rows), mode], {
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

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median run of each number; phases too. */
function medianOf(runs: readonly Measurement[]): Measurement {
  const first = runs[0]!;
  const of = (pick: (m: Measurement) => number) => median(runs.map(pick));
  const phases = Object.fromEntries(Object.keys(first.phases).map((k) => [k, of((m) => m.phases[k] ?? 0)]));
  return { ...first, seconds: of((m) => m.seconds), bytes: of((m) => m.bytes), files: of((m) => m.files), maxRssMiB: of((m) => m.maxRssMiB), phases };
}

type Key = 'a' | 'b' | 'c';

function report(rows: number, mode: string, all: Record<Key, Measurement[]>): void {
  const results = { a: medianOf(all.a), b: medianOf(all.b), c: medianOf(all.c) };
  const repeat = all.a.length;
  const label = { a: '(a) ClickHouse → Parquet file', b: `(b) Coldtier → Iceberg (${mode})`, c: '(c) ClickHouse → Iceberg (experimental)' };
  console.log(`\nOffload of ${fmt(rows)} bronze rows (one window, FINAL), each in its own process${repeat > 1 ? `, median of ${repeat} runs` : ''}\n`);
  console.log(`${'measurement'.padEnd(42)}${'rows/s'.padStart(12)}${'seconds'.padStart(10)}${'MiB out'.padStart(10)}${'files'.padStart(7)}${'peak RSS MiB'.padStart(14)}`);
  for (const key of ['a', 'b', 'c'] as const) {
    const m = results[key];
    console.log(
      `${label[key].padEnd(42)}${fmt(m.rows / m.seconds).padStart(12)}${fmt(m.seconds, 2).padStart(10)}${fmt(m.bytes / 2 ** 20, 1).padStart(10)}${String(m.files).padStart(7)}${fmt(m.maxRssMiB).padStart(14)}`,
    );
    if (repeat > 1) console.log(`${''.padEnd(42)}  runs (s): ${all[key].map((r) => fmt(r.seconds, 2)).join(', ')}; RSS (MiB): ${all[key].map((r) => fmt(r.maxRssMiB)).join(', ')}`);
  }
  const { a, b, c } = results;
  const ba = a.seconds / b.seconds;
  console.log(`\nb/a = ${fmt(ba, 2)} (goal ≥ ${RATIO_GOAL}: ${ba >= RATIO_GOAL ? 'met' : 'NOT met'})`);
  console.log(`b/c = ${fmt(c.seconds / b.seconds, 2)}`);
  const rssGoal = rows >= 10_000_000 ? (b.maxRssMiB <= RSS_GOAL_MIB ? 'met' : 'NOT met') : 'judged at 10M rows';
  console.log(`Coldtier peak RSS ${fmt(b.maxRssMiB)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB at 10M rows: ${rssGoal})`);
  console.log(`Coldtier phases (s): ${Object.entries(b.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rows = intArg(argv, '--rows', 5_000_000);
  const repeat = intArg(argv, '--repeat', 1);
  const mode = modeArg(argv);
  const root = await mkdtemp(join(tmpdir(), 'coldtier-bench-'));
  try {
    const dataDir = join(root, 'chdb');
    console.log(`generating ${fmt(rows)} rows in ${dataDir} ...`);
    const setup = await measure('setup', dataDir, root, rows, mode);
    if (setup.rows !== rows) throw new Error(`generated ${setup.rows} rows, expected ${rows}`);
    console.log(`generated in ${fmt(setup.seconds, 1)} s`);
    const all: Record<Key, Measurement[]> = { a: [], b: [], c: [] };
    for (let r = 0; r < repeat; r++) {
      for (const [key, kind] of [['a', 'export'], ['b', 'coldtier'], ['c', 'clickhouse-iceberg']] as const) {
        const out = join(root, kind);
        await mkdir(out);
        const m = await measure(kind, dataDir, out, rows, mode);
        all[key].push(m);
        console.log(`${kind}: ${fmt(m.seconds, 2)} s, ${fmt(m.maxRssMiB)} MiB`);
        await rm(out, { recursive: true, force: true });
      }
    }
    report(rows, mode, all);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
