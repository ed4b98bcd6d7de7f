import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server binaries; override with `PG_BIN`. */
export const DEFAULT_PG_BIN = '/usr/lib/postgresql/15/bin';

/** A PostgreSQL server the tests can connect to. */
export interface PostgresServer {
  /** Connection URL of the `postgres` maintenance database. */
  readonly url: string;
  /** True when the server is a private cluster this helper started. */
  readonly private: boolean;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * initdb refuses to run as root; in CI we are root, so the cluster is owned by
 * the `postgres` system user that Debian's packages create.
 */
function asServerUser(argv: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [argv[0]!, argv.slice(1)];
  const probe = spawnSync('id', ['-u', 'postgres']);
  if (probe.status !== 0) {
    throw new Error('running as root and no "postgres" user exists to own the test cluster');
  }
  return ['runuser', ['-u', 'postgres', '--', ...argv]];
}

async function runAsServerUser(argv: string[]): Promise<void> {
  const [cmd, args] = asServerUser(argv);
  await run(cmd, args, { env: { ...process.env, LC_ALL: 'C' } });
}

/**
 * A detached shell that stops the cluster and removes its directory once
 * this process is gone. pg_ctl daemonizes the server, so a test run killed
 * before its teardown (a CI timeout, a second Ctrl-C) would otherwise leave
 * it running, holding memory and a port, until the machine restarts.
 * Returns a function that dismisses the watchdog.
 */
function stopWhenOwnerExits(stop: string[], dir: string): () => void {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stop.map(quote).join(' ')} >/dev/null 2>&1; rm -rf ${quote(dir)}`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  return () => watchdog.kill();
}

/**
 * Starts a private PostgreSQL 15 cluster in a temp dir on a random loopback
 * port, unless `DATABASE_URL` is set, in which case that server is used.
 */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  if (env.DATABASE_URL) {
    return { url: env.DATABASE_URL, private: false, stop: async () => {} };
  }
  const bin = env.PG_BIN ?? DEFAULT_PG_BIN;
  const dir = await mkdtemp(join(tmpdir(), 'coldtier-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const port = await freePort();
  await runAsServerUser([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  await runAsServerUser([
    join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  const stopArgv = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
  const [cmd, args] = asServerUser(stopArgv);
  const dismissWatchdog = stopWhenOwnerExits([cmd, ...args], dir);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    private: true,
    async stop() {
      dismissWatchdog();
      await runAsServerUser(stopArgv).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `pool.end()` resolves before its clients' backends have exited. Dropping the
 * database WITH (FORCE) at that moment terminates them, and the terminating
 * client receives a FATAL 57P01 that no pool listens for anymore: an unhandled
 * error in the test file. So wait for the file's own sessions to leave first.
 */
async function waitForSessionsToEnd(client: pg.Client, database: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    if (rows[0]?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A pool for a test. Every pool a test opens listens for `error`: a backend
 * terminated while its client sits idle must not become an unhandled error.
 */
export function openTestPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  return pool;
}

/** A database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named database on the server at `serverUrl`. */
export async function createDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `coldtier_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      client.on('error', () => {});
      await client.connect();
      try {
        await waitForSessionsToEnd(client, name);
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
