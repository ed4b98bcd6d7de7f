#!/usr/bin/env node
/**
 * The ClickHouse HTTP test server as a process:
 *
 *   node dist/clickhouse-server/main.js [--port 0] [--host 127.0.0.1] [--path DIR]
 *
 * Credentials come from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD (default: `default`,
 * no password), so they never show in the process list. Prints one JSON line
 * `{"url":...,"port":...,"pid":...}` once it serves; without `--path` the data
 * lives in a temp dir removed at exit. Started by `startClickHouseServer`, it
 * also takes faults over the IPC channel. SIGTERM/SIGINT stop it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from './engine.js';
import { isFault } from './faults.js';
import { ClickHouseHttpServer } from './http-server.js';

/** Messages between `startClickHouseServer` and this process. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'fault-set'; readonly id: number }
  | { readonly type: 'fault'; readonly id: number; readonly fault: unknown };

function usage(message: string): never {
  process.stderr.write(`clickhouse-server: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { port?: string; host?: string; path?: string };
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, path: { type: 'string' } } }));
  } catch (e) {
    usage((e as Error).message);
  }
  const port = Number(values.port ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  const ownDir = values.path === undefined ? await mkdtemp(join(tmpdir(), 'coldtier-clickhouse-')) : undefined;
  const engine = await Engine.open(values.path ?? ownDir!);
  const server = new ClickHouseHttpServer(engine, {
    username: process.env.CLICKHOUSE_USER || 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
  });
  const bound = await server.listen(port, values.host ?? '127.0.0.1');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    engine.close();
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Started by a test: leave with it, whatever way it ends.
  process.on('disconnect', () => void stop());
  process.on('message', (message: ServerMessage) => {
    if (message.type !== 'fault' || !isFault(message.fault)) return;
    void server.setFault(message.fault).then(() => process.send?.({ type: 'fault-set', id: message.id } satisfies ServerMessage));
  });

  process.stdout.write(`${JSON.stringify({ url: `http://${values.host ?? '127.0.0.1'}:${bound}`, port: bound, pid: process.pid })}\n`);
  process.send?.({ type: 'ready', port: bound } satisfies ServerMessage);
}

main().catch((e: unknown) => {
  process.stderr.write(`clickhouse-server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
