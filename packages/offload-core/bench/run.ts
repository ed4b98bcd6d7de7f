/**
 * Offload benchmark, on the same window of generated bronze trades, each
 * measurement in its own process. In process (chdb): ClickHouse's Parquet
 * export (a) vs Coldtier's Iceberg offload (b) vs ClickHouse's own Iceberg
 * insert (c). Over HTTP, the production path, against the ClickHouse test
 * server (chdb behind ClickHouse's HTTP interface, a process of its own):
 * ClickHouse's Parquet download to a file (d) vs Coldtier's runner in
 * `stream` mode (e). To object storage (an S3 server, moto, started here;
 * skipped with the reason when it is not installed): ClickHouse writing
 * the window to S3 itself (f) vs Coldtier's `server-side` (g) and `stream`
 * (h) exports, ClickHouse over HTTP in all three.
 * Usage: node bench/dist/run.js [--rows N] [--repeat R] [--mode server-side|stream] [--only a,b,...] [--catalog filesystem|rest]
 * (defaults 5,000,000 rows, 1 repetition, server-side: chdb writes the files in (b), every measurement, the filesystem catalog on S3).
 * With R > 1 each measurement runs R times, interleaved, and the medians are reported.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRestCatalog, startS3Server } from '@coldtier/test-support';
import type { RestCatalogServer, S3Server } from '@coldtier/test-support';
import { createClient } from '@clickhouse/client';
import { S3FileIO } from '@coldtier/offload-core';
import type { Measurement } from './measure.js';
import { BENCH_BUCKET, REST_URI_ENV, REST_WAREHOUSE_BUCKET, S3_ENDPOINT_ENV, S3_PREFIX_ENV, createBenchCollection, emptyBuckets } from './object-store.js';

const RESULT_PREFIX = 'BENCH_RESULT ';
const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));
const RSS_GOAL_MIB = 512;
const RATIO_GOAL = 0.7;
const HTTP_RATIO_GOAL = 0.9;
const HTTP_RSS_GOAL_MIB = 160;
const S3_RATIO_GOAL = 0.9;
const S3_RSS_GOAL_MIB = 200;
/** The ClickHouse HTTP test server's entry (built by `pnpm bench`'s `tsc -b`). */
const SERVER = join(dirname(createRequire(import.meta.url).resolve('@coldtier/test-support/package.json')), 'dist', 'clickhouse-server', 'main.js');

interface Server {
  readonly url: string;
  readonly pid: number;
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
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system) a process has used so far, from /proc
 * (Linux); undefined where there is none. The servers' CPU shows where a
 * measurement's time went on a machine whose cores they share.
 */
async function cpuSecondsOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  // The command name may hold spaces; utime and stime are the 12th and 13th fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
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

function measure(kind: string, dataDir: string, out: string, rows: number, mode: string, env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MEASURE, kind, dataDir, out, String(rows), mode], {
      // chdb confines file table engines to user_files_path, its working directory.
      cwd: out,
      env: { ...process.env, ...env },
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
  const server = (name: 'clickhouse' | 's3') => (first.serverCpuSeconds?.[name] === undefined ? {} : { [name]: of((m) => m.serverCpuSeconds?.[name] ?? 0) });
  return {
    ...first,
    seconds: of((m) => m.seconds),
    bytes: of((m) => m.bytes),
    files: of((m) => m.files),
    maxRssMiB: of((m) => m.maxRssMiB),
    cpuSeconds: of((m) => m.cpuSeconds),
    serverCpuSeconds: { ...server('clickhouse'), ...server('s3') },
    phases,
  };
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
type Key = (typeof KEYS)[number];
const S3_KEYS: readonly Key[] = ['f', 'g', 'h'];

function catalogArg(argv: readonly string[]): 'filesystem' | 'rest' {
  const i = argv.indexOf('--catalog');
  const catalog = i < 0 ? 'filesystem' : argv[i + 1];
  if (catalog !== 'filesystem' && catalog !== 'rest') throw new Error(`--catalog: expected filesystem or rest, got ${catalog}`);
  return catalog;
}

function onlyArg(argv: readonly string[]): Set<Key> {
  const i = argv.indexOf('--only');
  if (i < 0) return new Set(KEYS);
  const keys = (argv[i + 1] ?? '').split(',');
  const unknown = keys.filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0 || keys.length === 0) throw new Error(`--only: expected measurement letters among ${KEYS.join(',')}, got ${argv[i + 1]}`);
  return new Set(keys as Key[]);
}

function report(rows: number, mode: string, catalog: string, all: Record<Key, Measurement[]>, s3Skipped: string | undefined): void {
  const measured = KEYS.filter((k) => all[k].length > 0);
  const results = Object.fromEntries(measured.map((k) => [k, medianOf(all[k])])) as Partial<Record<Key, Measurement>>;
  const repeat = Math.max(...measured.map((k) => all[k].length));
  const label = {
    a: '(a) ClickHouse → Parquet file',
    b: `(b) Coldtier → Iceberg (${mode})`,
    c: '(c) ClickHouse → Iceberg (experimental)',
    d: '(d) HTTP: ClickHouse Parquet download',
    e: '(e) HTTP: Coldtier → Iceberg (stream)',
    f: '(f) S3: ClickHouse → Parquet object',
    g: '(g) S3: Coldtier → Iceberg (server-side)',
    h: '(h) S3: Coldtier → Iceberg (stream)',
  };
  console.log(`\nOffload of ${fmt(rows)} bronze rows (one window, FINAL), each in its own process${repeat > 1 ? `, median of ${repeat} runs` : ''}\n`);
  console.log(`${'measurement'.padEnd(42)}${'rows/s'.padStart(12)}${'seconds'.padStart(10)}${'MiB out'.padStart(10)}${'files'.padStart(7)}${'peak RSS MiB'.padStart(14)}`);
  for (const key of measured) {
    const m = results[key]!;
    console.log(
      `${label[key].padEnd(42)}${fmt(m.rows / m.seconds).padStart(12)}${fmt(m.seconds, 2).padStart(10)}${fmt(m.bytes / 2 ** 20, 1).padStart(10)}${String(m.files).padStart(7)}${fmt(m.maxRssMiB).padStart(14)}`,
    );
    if (repeat > 1) console.log(`${''.padEnd(42)}  runs (s): ${all[key].map((r) => fmt(r.seconds, 2)).join(', ')}; RSS (MiB): ${all[key].map((r) => fmt(r.maxRssMiB)).join(', ')}`);
    console.log(`${''.padEnd(42)}  CPU (s): ${cpuOf(m)}`);
  }
  const { a, b, c, d, e, f, g, h } = results;
  if (a && b) {
    const ba = a.seconds / b.seconds;
    console.log(`\nb/a = ${fmt(ba, 2)} (goal ≥ ${RATIO_GOAL}: ${ba >= RATIO_GOAL ? 'met' : 'NOT met'})`);
    if (c) console.log(`b/c = ${fmt(c.seconds / b.seconds, 2)}`);
    const rssGoal = rows >= 10_000_000 ? (b.maxRssMiB <= RSS_GOAL_MIB ? 'met' : 'NOT met') : 'judged at 10M rows';
    console.log(`Coldtier peak RSS ${fmt(b.maxRssMiB)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB at 10M rows: ${rssGoal})`);
    console.log(`Coldtier phases (s): ${phasesOf(b)}`);
  }
  if (d && e) {
    const ed = d.seconds / e.seconds;
    console.log(`\nOver HTTP: e/d = ${fmt(ed, 2)} (goal ≥ ${HTTP_RATIO_GOAL}: ${ed >= HTTP_RATIO_GOAL ? 'met' : 'NOT met'})`);
    console.log(`Coldtier process peak RSS over HTTP ${fmt(e.maxRssMiB)} MiB (goal ≤ ${HTTP_RSS_GOAL_MIB} MiB: ${e.maxRssMiB <= HTTP_RSS_GOAL_MIB ? 'met' : 'NOT met'})`);
    console.log(`Coldtier phases over HTTP (s): ${phasesOf(e)}`);
  }
  if (s3Skipped) console.log(`\nTo S3: skipped (${s3Skipped})`);
  if (f && g) {
    const gf = f.seconds / g.seconds;
    console.log(`\nTo S3 (moto; ${catalog === 'rest' ? 'the REST catalog server' : 'filesystem catalog on the bucket'}): g/f = ${fmt(gf, 2)} (goal ≥ ${S3_RATIO_GOAL}: ${gf >= S3_RATIO_GOAL ? 'met' : 'NOT met'})`);
    console.log(`Coldtier phases, server-side (s): ${phasesOf(g)}`);
  }
  if (f && h) console.log(`h/f = ${fmt(f.seconds / h.seconds, 2)}`);
  if (h) {
    const rssGoal = rows >= 10_000_000 ? (h.maxRssMiB <= S3_RSS_GOAL_MIB ? 'met' : 'NOT met') : 'judged at 10M rows';
    console.log(`Coldtier process peak RSS, stream to S3 ${fmt(h.maxRssMiB)} MiB (goal ≤ ${S3_RSS_GOAL_MIB} MiB at 10M rows: ${rssGoal})`);
    console.log(`Coldtier phases, stream to S3 (s): ${phasesOf(h)}`);
  }
  const ratio = (x: Measurement | undefined, y: Measurement | undefined) => (x && y ? x.seconds / y.seconds : undefined);
  console.log(
    `BENCH_SUMMARY ${JSON.stringify({
      rows,
      ba: ratio(a, b),
      bc: ratio(c, b),
      ed: ratio(d, e),
      gf: ratio(f, g),
      hf: ratio(f, h),
      rssB: b?.maxRssMiB,
      rssE: e?.maxRssMiB,
      rssG: g?.maxRssMiB,
      rssH: h?.maxRssMiB,
      rowsPerSecond: Object.fromEntries(measured.map((k) => [k, results[k]!.rows / results[k]!.seconds])),
    })}`,
  );
}

/** Measurements whose process only sends ClickHouse the query. */
const CLIENT_ONLY: readonly string[] = ['download', 's3-clickhouse'];

function cpuOf(m: Measurement): string {
  const { clickhouse, s3 } = m.serverCpuSeconds ?? {};
  return [
    `${CLIENT_ONLY.includes(m.kind) ? 'client' : clickhouse === undefined ? 'process (chdb in it)' : 'Coldtier'} ${fmt(m.cpuSeconds, 2)}`,
    ...(clickhouse === undefined ? [] : [`ClickHouse server ${fmt(clickhouse, 2)}`]),
    ...(s3 === undefined ? [] : [`S3 server ${fmt(s3, 2)}`]),
  ].join(', ');
}

const phasesOf = (m: Measurement) => Object.entries(m.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ');

interface ObjectStore {
  readonly s3: S3Server;
  /** With `--catalog rest`. */
  readonly rest?: RestCatalogServer;
}

/** The S3 server the object-store measurements write to (and the REST catalog server on it), or why there is none. */
async function startObjectStore(catalog: 'filesystem' | 'rest'): Promise<ObjectStore | string> {
  let s3: S3Server | undefined;
  try {
    s3 = await startS3Server();
    await s3.createBucket(BENCH_BUCKET);
    return catalog === 'rest' ? { s3, rest: await startRestCatalog({ s3, bucket: REST_WAREHOUSE_BUCKET }) } : { s3 };
  } catch (error) {
    await s3?.stop();
    return `no S3 server${catalog === 'rest' ? ' or REST catalog server' : ''}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rows = intArg(argv, '--rows', 5_000_000);
  const repeat = intArg(argv, '--repeat', 1);
  const mode = modeArg(argv);
  const only = onlyArg(argv);
  const catalog = catalogArg(argv);
  const root = await mkdtemp(join(tmpdir(), 'coldtier-bench-'));
  const store = S3_KEYS.some((k) => only.has(k)) ? await startObjectStore(catalog) : undefined;
  try {
    const dataDir = join(root, 'chdb');
    console.log(`generating ${fmt(rows)} rows in ${dataDir} ...`);
    const setup = await measure('setup', dataDir, root, rows, mode);
    if (setup.rows !== rows) throw new Error(`generated ${setup.rows} rows, expected ${rows}`);
    console.log(`generated in ${fmt(setup.seconds, 1)} s`);
    const all = Object.fromEntries(KEYS.map((k) => [k, []])) as unknown as Record<Key, Measurement[]>;
    const once = async (key: Key, kind: string, source: string, env: NodeJS.ProcessEnv = {}, servers: { clickhouse?: number; s3?: number } = {}) => {
      if (!only.has(key)) return;
      const out = join(root, kind);
      await mkdir(out);
      const cpu = async () => ({ clickhouse: servers.clickhouse && (await cpuSecondsOf(servers.clickhouse)), s3: servers.s3 && (await cpuSecondsOf(servers.s3)) });
      const before = await cpu();
      const measured = await measure(kind, source, out, rows, mode, env);
      const after = await cpu();
      const used = (name: 'clickhouse' | 's3') => (after[name] === undefined || before[name] === undefined ? {} : { [name]: after[name] - before[name] });
      const m: Measurement = { ...measured, serverCpuSeconds: { ...used('clickhouse'), ...used('s3') } };
      all[key].push(m);
      console.log(`${kind}: ${fmt(m.seconds, 2)} s, ${fmt(m.maxRssMiB)} MiB`);
      await rm(out, { recursive: true, force: true });
    };
    for (let r = 0; r < repeat; r++) {
      for (const [key, kind] of [['a', 'export'], ['b', 'coldtier'], ['c', 'clickhouse-iceberg']] as const) await once(key, kind, dataDir);
      const server = await startServer(dataDir);
      try {
        for (const [key, kind] of [['d', 'download'], ['e', 'coldtier-http']] as const) await once(key, kind, server.url, {}, { clickhouse: server.pid });
        if (typeof store === 'object') {
          const { s3, rest } = store;
          const admin = createClient({ url: server.url });
          await createBenchCollection(admin, s3.accessKeyId, s3.secretAccessKey).finally(() => admin.close());
          const env = {
            [S3_ENDPOINT_ENV]: s3.endpoint,
            ...(rest ? { [REST_URI_ENV]: rest.uri } : {}),
            AWS_ACCESS_KEY_ID: s3.accessKeyId,
            AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
            AWS_REGION: s3.region,
          };
          // This script's own S3 client (emptying the bucket) takes moto's keys from the default chain, as the measurements do.
          Object.assign(process.env, env);
          const io = new S3FileIO({ endpoint: s3.endpoint, region: s3.region, pathStyle: true });
          for (const [key, kind] of [['f', 's3-clickhouse'], ['g', 's3-server-side'], ['h', 's3-stream']] as const) {
            await once(key, kind, server.url, { ...env, [S3_PREFIX_ENV]: `${kind}-${r}` }, { clickhouse: server.pid, s3: s3.pid });
            await emptyBuckets(io);
          }
        }
      } finally {
        await server.stop();
      }
    }
    report(rows, mode, catalog, all, typeof store === 'string' ? store : undefined);
  } finally {
    if (typeof store === 'object') {
      await store.rest?.stop();
      await store.s3.stop();
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
