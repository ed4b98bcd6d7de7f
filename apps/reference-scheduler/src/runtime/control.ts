import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageOf, OffloadError } from '@coldtier/offload-core';

/** A command another `coldtier` process asks the daemon to run for it. */
export interface ForwardedCommand {
  readonly argv: readonly string[];
  readonly errIsTty: boolean;
}

/** What the command printed and its exit code, for the asking process to reproduce. */
export interface ForwardedResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface ControlServer {
  /** The Unix socket it listens on. */
  readonly path: string;
  close(): Promise<void>;
}

/** Linux's limit for a socket path is 107 bytes; beyond it the socket goes to a private temp directory. */
const MAX_SOCKET_PATH = 100;
/** Bounds what either side buffers; a `diagnose --json` report is a few tens of kilobytes. */
const MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

/**
 * Serves forwarded commands on a Unix socket beside the state directory's lock:
 * only users who may open the state directory reach it, and it is never on
 * the network (the metrics port may listen on every interface). HTTP over the
 * socket, so Node's own client and server carry it.
 */
export async function startControlServer(root: string, handle: (command: ForwardedCommand) => Promise<ForwardedResult>): Promise<ControlServer> {
  let path = join(root, 'coldtier.sock');
  let privateDir: string | undefined;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    privateDir = await mkdtemp(join(tmpdir(), 'coldtier-'));
    path = join(privateDir, 'control.sock');
  }
  // The caller holds the state directory's lock: a socket file left here belongs to a process that is gone.
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/command') return reply(404, { error: 'POST /command only' });
    readJson(req)
      .then((body) => handle(parseCommand(body)))
      .then((result) => reply(200, result), (error: unknown) => reply(400, { error: messageOf(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (privateDir !== undefined) await rm(privateDir, { recursive: true, force: true });
    },
  };
}

/** Sends a command to the daemon listening on `path`; fails after `timeoutMs` without an answer. */
export function sendCommand(path: string, command: ForwardedCommand, timeoutMs: number): Promise<ForwardedResult> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: '/command', method: 'POST', headers: { 'content-type': 'application/json' }, timeout: timeoutMs }, (res) => {
      readJson(res).then((body) => {
        if (res.statusCode !== 200) throw new OffloadError('internal', `the running coldtier start refused the command: ${String((body as { error?: unknown }).error)}`);
        resolve(parseResult(body));
      }).catch(reject);
    });
    req.on('timeout', () => req.destroy(new OffloadError('internal', `no answer from the running coldtier start within ${timeoutMs / 1000}s`, { retryable: true })));
    req.on('error', reject);
    req.end(JSON.stringify(command));
  });
}

async function readJson(stream: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > MAX_MESSAGE_CHARS) throw new OffloadError('internal', `message over ${MAX_MESSAGE_CHARS} characters`);
  }
  return JSON.parse(text) as unknown;
}

function parseCommand(body: unknown): ForwardedCommand {
  const { argv, errIsTty } = (body ?? {}) as Partial<Record<keyof ForwardedCommand, unknown>>;
  const valid = Array.isArray(argv) && argv.every((a) => typeof a === 'string') && typeof errIsTty === 'boolean';
  if (!valid) throw new OffloadError('config', 'expected {"argv": string[], "errIsTty": boolean}');
  return { argv: argv as string[], errIsTty };
}

function parseResult(body: unknown): ForwardedResult {
  const { code, out, err } = (body ?? {}) as Partial<Record<keyof ForwardedResult, unknown>>;
  if (typeof code !== 'number' || typeof out !== 'string' || typeof err !== 'string') throw new OffloadError('internal', 'malformed answer from the running coldtier start');
  return { code, out, err };
}
