import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import type { ClickHouseFault } from './faults.js';
import type { ServerMessage } from './main.js';

/** A ClickHouse HTTP server for tests: chdb behind ClickHouse's HTTP interface, in its own process. */
export interface ClickHouseTestServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The engine's data directory, removed by `stop()`. */
  readonly dataPath: string;
  /** A `@clickhouse/client` over HTTP with the server's URL and credentials; closed by `stop()`. */
  client(options?: ClickHouseClientConfigOptions): ClickHouseClient;
  /** Injects a fault (see {@link ClickHouseFault}); `null` serves normally again. Resolves once in effect. */
  injectFault(fault: ClickHouseFault): Promise<void>;
  stop(): Promise<void>;
}

export interface ClickHouseServerOptions {
  /** Default `default`. */
  readonly username?: string;
  /** Default none. */
  readonly password?: string;
}

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * The server's built entry. It runs as a plain Node process, so it is the
 * compiled file even when the tests run from `src/`: the root `pnpm test`
 * builds first; run `pnpm build` before running a test file alone.
 */
export const CLICKHOUSE_SERVER_ENTRY = fileURLToPath(
  import.meta.url.endsWith('.ts') ? new URL('../../dist/clickhouse-server/main.js', import.meta.url) : new URL('./main.js', import.meta.url),
);

/** Starts the server on a random loopback port with a fresh data directory. */
export async function startClickHouseServer(options: ClickHouseServerOptions = {}): Promise<ClickHouseTestServer> {
  if (!existsSync(CLICKHOUSE_SERVER_ENTRY)) throw new Error(`${CLICKHOUSE_SERVER_ENTRY} is missing: run \`pnpm build\` (tsc -b) first`);
  const username = options.username ?? 'default';
  const password = options.password ?? '';
  const dataPath = await mkdtemp(join(tmpdir(), 'coldtier-clickhouse-'));
  const child = fork(CLICKHOUSE_SERVER_ENTRY, ['--port', '0', '--path', dataPath], {
    env: { ...process.env, CLICKHOUSE_USER: username, CLICKHOUSE_PASSWORD: password },
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await ready(child, () => stderr);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    await rm(dataPath, { recursive: true, force: true });
    throw e;
  }
  const url = `http://127.0.0.1:${port}`;
  const clients: ClickHouseClient[] = [];
  let nextFaultId = 0;
  return {
    url,
    username,
    password,
    dataPath,
    client(clientOptions = {}) {
      const client = createClient({ url, username, password, ...clientOptions });
      clients.push(client);
      return client;
    },
    injectFault(fault) {
      const id = nextFaultId++;
      return new Promise((resolve, reject) => {
        const onMessage = (message: ServerMessage) => {
          if (message.type !== 'fault-set' || message.id !== id) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve();
        };
        const onExit = () => {
          child.off('message', onMessage);
          reject(new Error(`the ClickHouse test server exited before setting fault ${fault}: ${stderr}`));
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ type: 'fault', id, fault } satisfies ServerMessage);
      });
    },
    async stop() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataPath, { recursive: true, force: true });
    },
  };
}

function ready(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ClickHouse test server did not start within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`)), STARTUP_TIMEOUT_MS);
    child.on('message', (message: ServerMessage) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the ClickHouse test server exited (${signal ?? code}) before serving: ${stderr()}`));
    });
  });
}
