import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI: the root `pnpm test` runs `tsc -b` first; run `pnpm build` before running these tests alone. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const FAKE_SPARK = fileURLToPath(new URL('../../../packages/offload-core/test/fixtures/fake-spark.mjs', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` (tsc -b) before these tests`);
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `coldtier ARGS` to completion; `cli` runs another build's entry point (a production install's). */
export function coldtier(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; cli?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `coldtier start` process and its output so far. */
export interface Daemon {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

export function startDaemon(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Daemon {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls `check` until it returns a value, failing with the daemon's output after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, daemon: Daemon, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (daemon.child.exitCode !== null || Date.now() > until) {
      throw new Error(`timed out waiting for ${what}; daemon output:\n${daemon.output()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The port the daemon reports in its "Metrics server started on http://...:PORT" line. */
export function daemonUrl(daemon: Daemon): Promise<string> {
  return waitFor('the metrics server', async () => /Metrics server started on (http:\/\/[^\s]+)/.exec(daemon.output())?.[1], daemon);
}

/** Whether `pid` runs; a zombie (exited, not yet reaped by a container's init) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A config using the fake Spark job; PostgreSQL comes from COLDTIER_DATABASE_URL. */
export async function writeFakeSparkConfig(dir: string, extra = ''): Promise<string> {
  const path = join(dir, 'coldtier.yaml');
  await writeFile(
    path,
    `retry: { retries: 0 }
clickhouse: { url: "http://127.0.0.1:9" }
runner:
  kind: spark
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FAKE_SPARK)}]
  killGraceSeconds: 1
  prepareTable: false
  passEnv: [FAKE_SPARK_MODE, FAKE_SPARK_PID_FILE]
tables:
  - { source: k2.bronze_trades_binance, target: cold.bronze_trades_binance, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }
  - { source: k2.bronze_trades_kraken, target: cold.bronze_trades_kraken, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }
${extra}`,
  );
  return path;
}
