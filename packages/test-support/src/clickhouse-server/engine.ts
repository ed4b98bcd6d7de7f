import { Session } from 'chdb';
import { ErrorCode, serverException, type ServerException } from './errors.js';
import { isStreamable, outputFormat } from './format.js';
import type { QueryRequest } from './request.js';

/** ClickHouse's `X-ClickHouse-Summary`, numbers as strings. */
export interface QuerySummary {
  read_rows: string;
  read_bytes: string;
  written_rows: string;
  written_bytes: string;
  total_rows_to_read: string;
  result_rows: string;
  result_bytes: string;
  elapsed_ns: string;
}

/** A running query: its output format, its result as chunks, and its summary so far. */
export interface QueryExecution {
  readonly format: string;
  readonly chunks: AsyncIterator<Uint8Array>;
  summary(): QuerySummary;
  /** Stops the query and releases its session. */
  cancel(): void;
}

interface NamedSession {
  readonly session: Session;
  busy: boolean;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The chdb engine behind the HTTP handler. Every request runs on its own chdb
 * connection to the one data directory, so settings and `USE` of one request
 * never leak into another, as with ClickHouse's stateless HTTP queries; a
 * `session_id` keeps its connection between requests.
 */
export class Engine {
  private readonly sessions = new Map<string, NamedSession>();

  private constructor(
    readonly path: string,
    readonly version: string,
    /** Holds the data directory bound for the life of the server. */
    private readonly anchor: Session,
  ) {}

  static async open(path: string): Promise<Engine> {
    const anchor = new Session(path);
    try {
      const version = (await anchor.queryAsync('SELECT version()', { format: 'TSVRaw' })).text().trim();
      return new Engine(path, version, anchor);
    } catch (cause) {
      anchor.close();
      throw cause;
    }
  }

  /** Runs the request; an exception before the first chunk rejects, later ones surface from `chunks`. */
  async execute(request: QueryRequest): Promise<QueryExecution> {
    const { session, release } = this.acquire(request);
    try {
      await this.prepare(session, request);
      const format = outputFormat(request.sql, request.defaultFormat);
      // wait_end_of_query asks for the whole result before the headers, so it is never streamed.
      if (isStreamable(request.sql, format) && !request.waitEndOfQuery) return await this.stream(session, request, format, release);
      const execution = await this.materialize(session, request, format);
      release();
      return execution;
    } catch (cause) {
      release();
      throw cause;
    }
  }

  close(): void {
    for (const { session } of this.sessions.values()) session.close();
    this.sessions.clear();
    this.anchor.close();
  }

  private acquire(request: QueryRequest): { session: Session; release: () => void } {
    if (request.sessionId === undefined) {
      const session = new Session(this.path);
      return { session, release: once(() => session.close()) };
    }
    let named = this.sessions.get(request.sessionId);
    if (!named) {
      named = { session: new Session(this.path), busy: false };
      this.sessions.set(request.sessionId, named);
    }
    if (named.busy) {
      throw serverException(ErrorCode.SESSION_IS_LOCKED, 'SESSION_IS_LOCKED', `Session ${request.sessionId} is locked by a concurrent client`, this.version);
    }
    const held = named;
    held.busy = true;
    return { session: held.session, release: once(() => (held.busy = false)) };
  }

  /**
   * Applies the request's settings and parameters to its connection. Parameters go
   * in as `SET param_x`, which takes the value in the same escaped text form as
   * the URL (chdb's own binder would escape it a second time).
   */
  private async prepare(session: Session, request: QueryRequest): Promise<void> {
    const entries = [...Object.entries(request.settings), ...Object.entries(request.params).map(([k, v]) => [`param_${k}`, v] as const)];
    for (const [name, value] of entries) {
      if (!SETTING_NAME.test(name)) {
        throw serverException(ErrorCode.UNKNOWN_SETTING, 'UNKNOWN_SETTING', `Unknown setting '${name}'`, this.version);
      }
      await session.queryAsync(`SET ${name} = ${stringLiteral(value)}`);
    }
    if (request.database !== undefined) await session.queryAsync(`USE ${backquote(request.database)}`);
    if (request.readonly) await session.queryAsync('SET readonly = 2');
  }

  private async materialize(session: Session, request: QueryRequest, format: string): Promise<QueryExecution> {
    const started = process.hrtime.bigint();
    const result = await session.queryAsync(request.sql, { format });
    const bytes = result.bytes();
    const summary = summaryOf({ rows: result.rowsRead, bytes: result.bytesRead, resultBytes: bytes.byteLength, elapsedNs: process.hrtime.bigint() - started });
    const chunks = (function* () {
      if (bytes.byteLength > 0) yield bytes;
    })();
    return { format, chunks: toAsync(chunks), summary: () => summary, cancel: () => {} };
  }

  private async stream(session: Session, request: QueryRequest, format: string, release: () => void): Promise<QueryExecution> {
    const started = process.hrtime.bigint();
    const stream = session.queryStream(request.sql, { format });
    const iterator = stream[Symbol.asyncIterator]();
    let rows = 0;
    let bytes = 0;
    const cancel = once(() => {
      stream.cancel();
      release();
    });
    const chunks: AsyncIterator<Uint8Array> = {
      async next() {
        try {
          const next = await iterator.next();
          if (next.done) {
            cancel();
            return { done: true, value: undefined };
          }
          rows += next.value.numRows;
          bytes += next.value.numBytes;
          return { done: false, value: next.value.raw() };
        } catch (cause) {
          cancel();
          throw cause;
        }
      },
    };
    return {
      format,
      chunks,
      summary: () => summaryOf({ rows, bytes, resultBytes: bytes, elapsedNs: process.hrtime.bigint() - started }),
      cancel,
    };
  }
}

function summaryOf(s: { rows: number; bytes: number; resultBytes: number; elapsedNs: bigint }): QuerySummary {
  return {
    read_rows: String(s.rows),
    read_bytes: String(s.bytes),
    written_rows: '0',
    written_bytes: '0',
    total_rows_to_read: '0',
    result_rows: String(s.rows),
    result_bytes: String(s.resultBytes),
    elapsed_ns: String(s.elapsedNs),
  };
}

function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function backquote(identifier: string): string {
  return `\`${identifier.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T, void> {
  yield* items;
}

/** Whether `e` is an exception this server raised itself (not the engine's). */
export function isServerException(e: unknown): e is ServerException {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' && 'message' in e && !(e instanceof Error);
}
