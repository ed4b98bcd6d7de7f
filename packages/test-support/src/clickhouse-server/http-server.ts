import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createDeflate, createGunzip, createGzip, createInflate, Deflate, Gzip } from 'node:zlib';
import { text } from 'node:stream/consumers';
import type { Readable, Writable } from 'node:stream';
import { isServerException, type Engine, type QueryExecution, type QuerySummary } from './engine.js';
import { ErrorCode, engineException, httpStatusOf, serverException, type ServerException } from './errors.js';
import type { ClickHouseFault } from './faults.js';
import { contentType } from './format.js';
import { parseQueryRequest, type QueryRequest } from './request.js';

/** Largest slice of a materialized result written at once, so a drop can happen mid-result. */
const WRITE_SLICE = 1 << 20;

const EMPTY_SUMMARY: QuerySummary = {
  read_rows: '0', read_bytes: '0', written_rows: '0', written_bytes: '0',
  total_rows_to_read: '0', result_rows: '0', result_bytes: '0', elapsed_ns: '0',
};

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * ClickHouse's HTTP interface (the part our clients use) in front of the chdb
 * engine: `/ping`, queries by GET and POST, auth, settings, `param_*`,
 * chunked streaming, `X-ClickHouse-*` headers, exceptions, and injected faults.
 */
export class ClickHouseHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly stalled = new Set<ServerResponse>();
  private fault: ClickHouseFault = null;
  private host = '127.0.0.1';
  private port = 0;

  constructor(
    private readonly engine: Engine,
    private readonly credentials: Credentials,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Above @clickhouse/client's idle socket TTL (2.5 s), as ClickHouse's 10 s is.
    this.server.keepAliveTimeout = 10_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on `host:port` (0 picks a free port) and returns the port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.host = host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async setFault(fault: ClickHouseFault): Promise<void> {
    const refusing = this.fault === 'refuse';
    this.fault = fault;
    if (fault === 'refuse' && !refusing) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.dropConnections();
      await closed;
    } else if (fault !== 'refuse' && refusing) {
      await this.listen(this.port, this.host);
    }
    if (fault !== 'stall') this.releaseStalled();
  }

  async close(): Promise<void> {
    const closed = this.server.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    this.dropConnections();
    await closed;
  }

  private dropConnections(): void {
    this.stalled.clear();
    for (const socket of this.sockets) socket.destroy();
  }

  /** Requests stalled by a fault that has been lifted are dropped: their clients have given up or will. */
  private releaseStalled(): void {
    for (const res of this.stalled) res.socket?.destroy();
    this.stalled.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.fault === 'stall') {
        this.stalled.add(res);
        res.on('close', () => this.stalled.delete(res));
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const body = method === 'POST' ? await text(decodedBody(req)) : '';
      if (url.pathname === '/ping' || url.pathname === '/replicas_status' || (url.pathname === '/' && !url.searchParams.has('query') && body === '')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
        return;
      }
      if (url.pathname !== '/') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' }).end(`There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`);
        return;
      }
      const request = parseQueryRequest(method, url, req.headers, body, this.engine.version);
      const queryId = url.searchParams.get('query_id') || randomUUID();
      if ('code' in request) return this.sendException(res, request, queryId);
      const denied = this.authenticate(request);
      if (denied) return this.sendException(res, denied, queryId);
      if (this.fault === 'error-500') {
        return this.sendException(res, serverException(241, 'MEMORY_LIMIT_EXCEEDED', 'Memory limit (total) exceeded: fault injected by the Coldtier test server', this.engine.version), queryId, 500);
      }
      await this.answer(res, request, queryId);
    } catch (cause) {
      if (!res.headersSent) this.sendException(res, engineException(cause, this.engine.version), randomUUID());
      else res.destroy();
    }
  }

  private authenticate(request: QueryRequest): ServerException | undefined {
    if (request.user === this.credentials.username && request.password === this.credentials.password) return undefined;
    return serverException(ErrorCode.AUTHENTICATION_FAILED, 'AUTHENTICATION_FAILED',
      `${request.user}: Authentication failed: password is incorrect, or there is no user with such name`, this.engine.version);
  }

  private async answer(res: ServerResponse, request: QueryRequest, queryId: string): Promise<void> {
    let execution: QueryExecution;
    let first: IteratorResult<Uint8Array>;
    try {
      execution = await this.engine.execute(request);
      first = await execution.chunks.next();
    } catch (cause) {
      return this.sendException(res, isServerException(cause) ? cause : engineException(cause, this.engine.version), queryId);
    }
    res.on('close', () => execution.cancel());
    const exceptionTag = randomBytes(8).toString('hex');
    res.writeHead(200, {
      'Content-Type': contentType(execution.format),
      'X-ClickHouse-Server-Display-Name': 'coldtier-test-clickhouse',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': execution.format,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Exception-Tag': exceptionTag,
      // Final for a whole result (wait_end_of_query, non-streamable formats), the progress so far for a stream, as ClickHouse.
      'X-ClickHouse-Summary': JSON.stringify(execution.summary()),
      ...(request.responseEncoding ? { 'Content-Encoding': request.responseEncoding } : {}),
      'Keep-Alive': 'timeout=10',
    });
    const out = encoder(res, request.responseEncoding);
    if (this.fault === 'drop-mid-stream') return dropAfterPart(res, out, first.done ? new Uint8Array() : first.value);
    try {
      for (let next = first; !next.done; next = await execution.chunks.next()) {
        await writeSliced(out, next.value);
      }
    } catch (cause) {
      if (res.destroyed) return;
      const { message } = isServerException(cause) ? cause : engineException(cause, this.engine.version);
      out.write(exceptionBlock(message, exceptionTag));
    }
    out.end();
  }

  private sendException(res: ServerResponse, exception: ServerException, queryId: string, status = httpStatusOf(exception.code)): void {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Server-Display-Name': 'coldtier-test-clickhouse',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Exception-Code': String(exception.code),
      'X-ClickHouse-Summary': JSON.stringify(EMPTY_SUMMARY),
    });
    res.end(`${exception.message}\n`);
  }
}

/** The request body, inflated when the client compressed it (`Content-Encoding`). */
function decodedBody(req: IncomingMessage): Readable {
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip') return req.pipe(createGunzip());
  if (encoding === 'deflate') return req.pipe(createInflate());
  return req;
}

function encoder(res: ServerResponse, encoding: QueryRequest['responseEncoding']): Writable {
  if (!encoding) return res;
  const zip = encoding === 'gzip' ? createGzip() : createDeflate();
  zip.pipe(res);
  return zip;
}

/**
 * ClickHouse ≥ 25.11's exception block at the end of a streamed result: the
 * client finds it by the tag it got in `X-ClickHouse-Exception-Tag`.
 */
export function exceptionBlock(message: string, tag: string): Buffer {
  const text = `${message}\n`;
  return Buffer.from(`\r\n__exception__\r\n${tag}\r\n${text}${Buffer.byteLength(text)} ${tag}\r\n__exception__\r\n`);
}

function write(out: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(chunk)) return resolve();
    const onDrain = () => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      out.off('drain', onDrain);
      reject(new Error('the client closed the connection'));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}

async function writeSliced(out: Writable, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.byteLength; at += WRITE_SLICE) await write(out, chunk.subarray(at, at + WRITE_SLICE));
}

/** Sends the first half of the first chunk, then drops the connection without ending the response. */
function dropAfterPart(res: ServerResponse, out: Writable, chunk: Uint8Array): void {
  const part = chunk.subarray(0, Math.max(1, Math.floor(chunk.byteLength / 2)));
  const drop = () => res.socket?.destroy();
  if (part.byteLength === 0) {
    res.flushHeaders();
    setImmediate(drop);
    return;
  }
  out.write(part, () => {
    // A compressing encoder holds the part until flushed.
    if (out instanceof Gzip || out instanceof Deflate) out.flush(drop);
    else drop();
  });
}
