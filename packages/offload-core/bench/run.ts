/**
 * Offload benchmark, on the same window of generated bronze trades, each
 * measurement in its own process. In process (chdb): ClickHouse's Parquet
 * export (a) vs Coldtier's Iceberg offload (b) vs ClickHouse's own Iceberg
 * insert (c). Over HTTP, the production path, against the ClickHouse test
 * server (chdb behind ClickHouse's HTTP interface, a process of its own):
 * ClickHouse's Parquet download to a file (d) vs Coldtier's runner in
 * `stream` mode (e).
 * Usage: node bench/dist/run.js [--rows N] [--repeat R] [--mode server-side|stream]
 * (defaults 5,000,000 rows, 1 repetition, server-side: chdb writes the files in (b)).
 * With R > 1 each measurement runs R times, interleaved, and the medians are reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './measure.js';

const RESULT_PREFIX = 'BENCH_RESULT ';
const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));
const RSS_GOAL_MIB = 512;
const RATIO_GOAL = 0.7;
const HTTP_RATIO_GOAL = 0.9;
const HTTP_RSS_GOAL_MIB = 160;
/** The ClickHouse HTTP test server's entry (built by `pnpm bench`'s `tsc -b`). */
const SERVER = join(dirname(createRequire(import.meta.url).resolve('@coldtier/test-support/package.json')), 'dist', 'clickhouse-server', 'main.js');

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves the generated data over HTTP; started per round, as chdb binds a data directory to one process at a time. */
async function startServer(dataDir: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [SERVER, '--port', '0', '--path', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  if (first.done) throw new Error('the ClickHouse HTTP server exited before serving');
  const { url } = JSON.parse(first.value as string) as { url: string };
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function intArg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const value = i < 0 ? fallback : Number(argv[i + 1]?.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: expected a positive integer, got ${argv[i + 1]}`);
  return value;
}

function modeArg(argv: readonly string[]): string {
  const i = argv.indexOf('--mode');
  const mode = i < 0 ? 'server-side' : argv[i + 1];
  if (mode !== 'server-side' && mode !== 'stream') throw new Error(`--mode: expected server-side or stream, got ${mode}`);
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

const KEYS = ['a', 'b', 'c', 'd', 'e'] as const;
type Key = (typeof KEYS)[number];

function report(rows: number, mode: string, all: Record<Key, Measurement[]>): void {
  const results = Object.fromEntries(KEYS.map((k) => [k, medianOf(all[k])])) as Record<Key, Measurement>;
  const repeat = all.a.length;
  const label = {
    a: '(a) ClickHouse → Parquet file',
    b: `(b) Coldtier → Iceberg (${mode})`,
    c: '(c) ClickHouse → Iceberg (experimental)',
    d: '(d) HTTP: ClickHouse Parquet download',
    e: '(e) HTTP: Coldtier → Iceberg (stream)',
  };
  console.log(`\nOffload of ${fmt(rows)} bronze rows (one window, FINAL), each in its own process${repeat > 1 ? `, median of ${repeat} runs` : ''}\n`);
  console.log(`${'measurement'.padEnd(42)}${'rows/s'.padStart(12)}${'seconds'.padStart(10)}${'MiB out'.padStart(10)}${'files'.padStart(7)}${'peak RSS MiB'.padStart(14)}`);
  for (const key of KEYS) {
    const m = results[key];
    console.log(
      `${label[key].padEnd(42)}${fmt(m.rows / m.seconds).padStart(12)}${fmt(m.seconds, 2).padStart(10)}${fmt(m.bytes / 2 ** 20, 1).padStart(10)}${String(m.files).padStart(7)}${fmt(m.maxRssMiB).padStart(14)}`,
    );
    if (repeat > 1) console.log(`${''.padEnd(42)}  runs (s): ${all[key].map((r) => fmt(r.seconds, 2)).join(', ')}; RSS (MiB): ${all[key].map((r) => fmt(r.maxRssMiB)).join(', ')}`);
  }
  const { a, b, c, d, e } = results;
  const ba = a.seconds / b.seconds;
  console.log(`\nb/a = ${fmt(ba, 2)} (goal ≥ ${RATIO_GOAL}: ${ba >= RATIO_GOAL ? 'met' : 'NOT met'})`);
  console.log(`b/c = ${fmt(c.seconds / b.seconds, 2)}`);
  const rssGoal = rows >= 10_000_000 ? (b.maxRssMiB <= RSS_GOAL_MIB ? 'met' : 'NOT met') : 'judged at 10M rows';
  console.log(`Coldtier peak RSS ${fmt(b.maxRssMiB)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB at 10M rows: ${rssGoal})`);
  console.log(`Coldtier phases (s): ${Object.entries(b.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  const ed = d.seconds / e.seconds;
  console.log(`\nOver HTTP: e/d = ${fmt(ed, 2)} (goal ≥ ${HTTP_RATIO_GOAL}: ${ed >= HTTP_RATIO_GOAL ? 'met' : 'NOT met'})`);
  console.log(`Coldtier process peak RSS over HTTP ${fmt(e.maxRssMiB)} MiB (goal ≤ ${HTTP_RSS_GOAL_MIB} MiB: ${e.maxRssMiB <= HTTP_RSS_GOAL_MIB ? 'met' : 'NOT met'})`);
  console.log(`Coldtier phases over HTTP (s): ${Object.entries(e.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  console.log(`BENCH_SUMMARY ${JSON.stringify({ rows, ba, bc: c.seconds / b.seconds, ed, rssB: b.maxRssMiB, rssE: e.maxRssMiB, rowsPerSecond: Object.fromEntries(KEYS.map((k) => [k, results[k].rows / results[k].seconds])) })}`);
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
    const all: Record<Key, Measurement[]> = { a: [], b: [], c: [], d: [], e: [] };
    const once = async (key: Key, kind: string, source: string) => {
      const out = join(root, kind);
      await mkdir(out);
      const m = await measure(kind, source, out, rows, mode);
      all[key].push(m);
      console.log(`${kind}: ${fmt(m.seconds, 2)} s, ${fmt(m.maxRssMiB)} MiB`);
      await rm(out, { recursive: true, force: true });
    };
    for (let r = 0; r < repeat; r++) {
      for (const [key, kind] of [['a', 'export'], ['b', 'coldtier'], ['c', 'clickhouse-iceberg']] as const) await once(key, kind, dataDir);
      const server = await startServer(dataDir);
      try {
        for (const [key, kind] of [['d', 'download'], ['e', 'coldtier-http']] as const) await once(key, kind, server.url);
      } finally {
        await server.stop();
      }
    }
    report(rows, mode, all);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
