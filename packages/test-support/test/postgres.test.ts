import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../src/index.js';

describe('shared PostgreSQL server', () => {
  it('is a real PostgreSQL 15 server with a fresh database per caller', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    afterAll(async () => {
      await client.end();
      await db.drop();
    });
    const { rows } = await client.query<{ v: string; db: string }>(
      'SELECT current_setting($1) AS v, current_database() AS db',
      ['server_version_num'],
    );
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
    expect(rows[0]!.db).toBe(db.name);
  });
});

describe('private PostgreSQL cluster', () => {
  it('is stopped and removed when the process that started it is killed before its teardown', async () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    await access(dist).catch(() => {
      throw new Error(`${dist} is missing: run \`pnpm build\` (pnpm test builds it)`);
    });
    // A test run that a CI timeout SIGKILLs: its own process starts the cluster and never stops it.
    const owner = spawn(process.execPath, ['--input-type=module', '-e', `const { startPostgres } = await import(${JSON.stringify(dist)});
      const server = await startPostgres({});
      console.log(server.url);
      setInterval(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: owner.stdout! }), 'line')) as [string];
    const port = Number(new URL(line).port);
    const dir = await clusterDirOf(port);
    await expect(reachable(port)).resolves.toBe(true);

    owner.kill('SIGKILL');
    await waitUntil(async () => !(await reachable(port)) && !(await access(dir).then(() => true, () => false)), 30_000);
  }, 90_000);
});

/** The cluster directory whose server was started on `port` (its postmaster.opts holds the options). */
async function clusterDirOf(port: number): Promise<string> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('coldtier-pg-')) continue;
    const opts = await readFile(join(tmpdir(), name, 'data', 'postmaster.opts'), 'utf8').catch(() => '');
    if (opts.includes(`-p ${port} `) || opts.includes(`"-p" "${port}"`)) return join(tmpdir(), name);
  }
  throw new Error(`no coldtier-pg-* directory holds the cluster on port ${port}`);
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
