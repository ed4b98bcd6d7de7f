import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where scripts/spark-env.sh installs PySpark and the jars (git-ignored). */
const SPARK_DIR = fileURLToPath(new URL('../../../.spark/', import.meta.url));
const RUN_SQL = fileURLToPath(new URL('../spark/run_sql.py', import.meta.url));
const ROWS_PREFIX = 'COLDTIER_SQL_ROWS ';

/** A local PySpark install: spark-submit, the Python that runs the driver, and the jars the job needs. */
export interface SparkInstall {
  readonly sparkSubmit: string;
  readonly python: string;
  readonly jars: readonly string[];
}

/** The install scripts/spark-env.sh made; throws naming the script to run when it is missing. */
export async function findSpark(): Promise<SparkInstall> {
  const sparkSubmit = join(SPARK_DIR, 'venv/bin/spark-submit');
  const python = join(SPARK_DIR, 'venv/bin/python');
  const jarDir = join(SPARK_DIR, 'jars');
  try {
    await access(sparkSubmit);
    const jars = (await readdir(jarDir)).filter((n) => n.endsWith('.jar')).sort().map((n) => join(jarDir, n));
    if (jars.length === 0) throw new Error(`no jars in ${jarDir}`);
    return { sparkSubmit, python, jars };
  } catch (error) {
    throw new Error(`Spark is not installed under ${SPARK_DIR} (${String(error)}). Run \`bash scripts/spark-env.sh\` at the repository root.`);
  }
}

export interface SparkSubmitOptions {
  /** Scratch space for Spark's shuffle and block files: a test's temp dir. */
  readonly localDir: string;
  /** `--conf` settings, e.g. the `spark.sql.catalog.<name>.*` of the catalog under test. */
  readonly conf?: Readonly<Record<string, string>>;
}

/**
 * `spark-submit --master local[2]` with the Iceberg and JDBC jars and settings
 * that keep a test small and quiet; append the script and its arguments.
 */
export function sparkSubmitCommand(spark: SparkInstall, options: SparkSubmitOptions): string[] {
  const conf: Record<string, string> = {
    'spark.sql.extensions': 'org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
    'spark.sql.session.timeZone': 'UTC',
    'spark.ui.enabled': 'false',
    // INFO lines would push a failure's traceback out of the output tail.
    'spark.log.level': 'WARN',
    'spark.sql.shuffle.partitions': '2',
    'spark.driver.memory': '1g',
    'spark.local.dir': options.localDir,
    'spark.sql.warehouse.dir': join(options.localDir, 'spark-warehouse'),
    // The driver's Python must be the venv's, which has pyspark.
    'spark.pyspark.python': spark.python,
    'spark.pyspark.driver.python': spark.python,
    ...options.conf,
  };
  return [
    spark.sparkSubmit,
    '--master', 'local[2]',
    '--jars', spark.jars.join(','),
    ...Object.entries(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
  ];
}

/** The environment spark-submit needs: Spark's quiet defaults, this process's PATH and JAVA_HOME. */
export function sparkEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'JAVA_HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: join(SPARK_DIR, 'venv/bin/python'), ...extra };
}

export interface RunSparkSqlOptions extends SparkSubmitOptions {
  /** Statements run in order in one Spark session. */
  readonly statements: readonly string[];
  /** Spark is killed after this long (default 5 minutes). */
  readonly timeoutMs?: number;
}

/**
 * Runs SQL statements in one real Spark session (one JVM start for all of
 * them) and returns each statement's rows as JSON objects.
 */
export async function runSparkSql(options: RunSparkSqlOptions): Promise<Record<string, unknown>[][]> {
  const spark = await findSpark();
  const [program, ...args] = sparkSubmitCommand(spark, options);
  const { stdout } = await runBounded(program!, [...args, RUN_SQL, JSON.stringify(options.statements)], {
    cwd: options.localDir,
    env: sparkEnv(),
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
  });
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(ROWS_PREFIX))
    .map((line) => JSON.parse(line.slice(ROWS_PREFIX.length)) as Record<string, unknown>[]);
}

interface BoundedRun {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
}

/** Process groups still running; killed when the test process exits, so a timed-out test leaves no JVM behind. */
const running = new Set<number>();
let exitHook = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs a process in its own group, killed whole on timeout; rejects with its output's tail on failure. */
function runBounded(program: string, args: string[], options: BoundedRun): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => running.forEach(killGroup));
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      if (code === 0) return resolve({ stdout, stderr });
      const why = timedOut ? `timed out after ${options.timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(new Error(`${program} ${why}:\n${stderr.slice(-4000)}`));
    });
  });
}
