import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where scripts/object-store-env.sh installs moto and the Iceberg REST catalog server. */
const DEPS = fileURLToPath(new URL('../../../.test-deps', import.meta.url));
const START_TIMEOUT_MS = 120_000;
/** A request to a started server; generous, as the suite may share two cores with another suite. */
const REQUEST_TIMEOUT_MS = 60_000;

/** moto accepts any access key; these are the ones its clients use. */
const ACCESS_KEY_ID = 'coldtier-test-key';
const SECRET_ACCESS_KEY = 'coldtier-test-secret';

/** A moto S3 server on a random loopback port. Any access key is accepted; these are the ones to use. */
export interface S3Server {
  readonly endpoint: string;
  /** The server's process, for measurements of its CPU time. */
  readonly pid: number;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Creates a bucket (path-style). */
  createBucket(name: string): Promise<void>;
  /**
   * `CREATE NAMED COLLECTION <name>` holding this server's credentials: what
   * an operator runs once on the ClickHouse server so it reaches the store
   * (`storage.s3.clickhouse.namedCollection`) with no secret from Coldtier.
   */
  namedCollectionSql(name: string): string;
  stop(): Promise<void>;
}

/** The Iceberg project's REST catalog server on a random loopback port, its warehouse on an {@link S3Server}. */
export interface RestCatalogServer {
  /** Base URI, without `/v1`. */
  readonly uri: string;
  /** `s3://<bucket>/warehouse`. */
  readonly warehouse: string;
  /** Milliseconds from spawning the JVM to the first accepted request. */
  readonly startMs: number;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts moto in server mode (installed by `scripts/test-deps.sh`). */
export async function startS3Server(): Promise<S3Server> {
  const bin = `${DEPS}/moto/bin/moto_server`;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/test-deps.sh`);
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { match } = await waitForLine(child, /Running on (http:\/\/127\.0\.0\.1:\d+)/, 'moto_server');
  const endpoint = match[1]!;
  // moto loads its S3 backend on the first S3 request: seconds on a busy
  // machine (two suites side by side took over 10 s), so it is part of the start.
  await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(START_TIMEOUT_MS) }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`moto_server did not answer its first S3 request within ${START_TIMEOUT_MS} ms`, { cause: error });
  });
  return {
    endpoint,
    pid: child.pid!,
    region: 'us-east-1',
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    namedCollectionSql: (name) => `CREATE NAMED COLLECTION ${name} AS access_key_id = '${ACCESS_KEY_ID}', secret_access_key = '${SECRET_ACCESS_KEY}'`,
    async createBucket(name) {
      const response = await fetch(`${endpoint}/${name}`, { method: 'PUT', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`creating bucket ${name}: HTTP ${response.status} ${await response.text()}`);
    },
    stop: () => stopChild(child),
  };
}

export interface RestCatalogOptions {
  readonly s3: S3Server;
  /** Bucket for the warehouse; created. Default `warehouse`. */
  readonly bucket?: string;
  /** Extra catalog properties, as `CATALOG_*` variables (`CATALOG_S3_PATH__STYLE__ACCESS`). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `RESTCatalogServlet` over an in-memory JDBC catalog with `S3FileIO`
 * on the given S3 server, through scripts/iceberg-rest/LoopbackRestCatalog.java
 * (the stock `RESTCatalogServer` binds every interface at a fixed port).
 */
export async function startRestCatalog(options: RestCatalogOptions): Promise<RestCatalogServer> {
  const rest = `${DEPS}/iceberg-rest`;
  if (!existsSync(`${rest}/classes/LoopbackRestCatalog.class`)) throw new Error(`${rest} is missing: run scripts/test-deps.sh`);
  const bucket = options.bucket ?? 'warehouse';
  await options.s3.createBucket(bucket);
  const warehouse = `s3://${bucket}/warehouse`;
  const started = performance.now();
  const child = spawn('java', ['-Xss4m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${rest}/classes:${rest}/lib/*`, 'LoopbackRestCatalog'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      ...(process.env['JAVA_HOME'] ? { JAVA_HOME: process.env['JAVA_HOME'] } : {}),
      AWS_REGION: options.s3.region,
      CATALOG_WAREHOUSE: warehouse,
      CATALOG_IO__IMPL: 'org.apache.iceberg.aws.s3.S3FileIO',
      CATALOG_S3_ENDPOINT: options.s3.endpoint,
      CATALOG_S3_PATH__STYLE__ACCESS: 'true',
      CATALOG_S3_ACCESS__KEY__ID: options.s3.accessKeyId,
      CATALOG_S3_SECRET__ACCESS__KEY: options.s3.secretAccessKey,
      CATALOG_CLIENT_REGION: options.s3.region,
      ...options.env,
    },
  });
  const { match, output } = await waitForLine(child, /^listening (\d+)$/m, 'the Iceberg REST catalog server');
  const startMs = Math.round(performance.now() - started);
  return { uri: `http://127.0.0.1:${match[1]}`, warehouse, startMs, output, stop: () => stopChild(child) };
}

/** Resolves when `pattern` appears in the child's output; rejects if it exits or takes too long. */
function waitForLine(child: ChildProcess, pattern: RegExp, name: string): Promise<{ match: RegExpExecArray; output: () => string }> {
  let text = '';
  const output = () => text;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${text}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ match, output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it started:\n${text}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
